import HTTP
/// The JSON Schema (2020-12, the dialect of OpenAPI 3.1) of a value a route reads or writes. Request and response
/// models do not write theirs by hand: `FieldReader` and `FieldWriter` record it from the same code that reads and
/// writes the values, so the document cannot drift from what the service does.
indirect enum Schema: Equatable, Sendable {
    case string(minLength: Int? = nil, maxLength: Int? = nil, format: String? = nil, values: [String]? = nil, pattern: String? = nil)
    case integer(minimum: Int? = nil, maximum: Int? = nil)
    case number
    case boolean
    case array(Schema, maxItems: Int? = nil)
    /// A named object: a component of the document, referred to by `$ref`.
    case object(ObjectSchema)
    case nullable(Schema)
    /// A location in a validation error: a field name or an index.
    case stringOrInteger
    /// Any JSON object (the OpenAPI document itself).
    case anyObject

    /// The schema as JSON; named objects are added to `components` and referred to.
    func json(components: inout [String: JSONValue]) -> JSONValue {
        switch self {
        case .string(let minLength, let maxLength, let format, let values, let pattern):
            var members: [(String, JSONValue)] = [("type", "string")]
            if let minLength { members.append(("minLength", .integer(minLength))) }
            if let maxLength { members.append(("maxLength", .integer(maxLength))) }
            if let format { members.append(("format", .string(format))) }
            if let values { members.append(("enum", .array(values.map(JSONValue.string)))) }
            if let pattern { members.append(("pattern", .string(pattern))) }
            return .object(members)
        case .integer(let minimum, let maximum):
            var members: [(String, JSONValue)] = [("type", "integer")]
            if let minimum { members.append(("minimum", .integer(minimum))) }
            if let maximum { members.append(("maximum", .integer(maximum))) }
            return .object(members)
        case .number: return .object([("type", "number")])
        case .boolean: return .object([("type", "boolean")])
        case .array(let items, let maxItems):
            var members: [(String, JSONValue)] = [("type", "array"), ("items", items.json(components: &components))]
            if let maxItems { members.append(("maxItems", .integer(maxItems))) }
            return .object(members)
        case .object(let object):
            if components[object.name] == nil {
                components[object.name] = .null  // placeholder: a model that contains itself stops here
                components[object.name] = object.json(components: &components)
            }
            return .object([("$ref", .string("#/components/schemas/\(object.name)"))])
        case .nullable(let schema):
            return .object([("anyOf", .array([schema.json(components: &components), .object([("type", "null")])]))])
        case .stringOrInteger:
            return .object([("anyOf", .array([.object([("type", "string")]), .object([("type", "integer")])]))])
        case .anyObject: return .object([("type", "object")])
        }
    }
}

/// A named object schema: its properties in order, and which are required.
struct ObjectSchema: Equatable, Sendable {
    struct Property: Equatable, Sendable {
        let name: String
        let schema: Schema
        let required: Bool
    }

    let name: String
    let properties: [Property]
    /// Members other than `properties` are refused (a 422 naming each), not ignored.
    var closed = false

    func json(components: inout [String: JSONValue]) -> JSONValue {
        var members: [(String, JSONValue)] = [("title", .string(name)), ("type", "object")]
        members.append(("properties", .object(properties.map { ($0.name, $0.schema.json(components: &components)) })))
        let required = properties.filter(\.required).map { JSONValue.string($0.name) }
        if !required.isEmpty { members.append(("required", .array(required))) }
        if closed { members.append(("additionalProperties", false)) }
        return .object(members)
    }
}
