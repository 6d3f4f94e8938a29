import HTTP
/// Writes a response object's fields straight into JSON bytes (no `JSONValue` tree in between: `GET /me` is the
/// hot path), or — run on a model's `example` — records their schemas for the OpenAPI document. A model's
/// `write(to:)` is the one place its fields are declared.
struct FieldWriter {
    private var bytes: [UInt8]
    private let describing: Bool
    private(set) var properties: [ObjectSchema.Property] = []

    init(describing: Bool = false, capacity: Int = 256) {
        self.describing = describing
        bytes = [UInt8(ascii: "{")]
        bytes.reserveCapacity(capacity)
    }

    /// The finished object.
    mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func key(_ name: StaticString, _ schema: @autoclosure () -> Schema) {
        if describing {
            properties.append(.init(name: name.description, schema: schema(), required: true))
            return
        }
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    private mutating func raw(_ text: String) {
        if !describing { bytes.append(contentsOf: text.utf8) }
    }

    private mutating func string(_ value: String) {
        if !describing { JSONValue.writeString(value, to: &bytes) }
    }

    mutating func field(_ name: StaticString, _ value: String, format: String? = nil) {
        key(name, .string(format: format))
        string(value)
    }

    mutating func field(_ name: StaticString, _ value: String?, format: String? = nil) {
        key(name, .nullable(.string(format: format)))
        if let value { string(value) } else { raw("null") }
    }

    mutating func field(_ name: StaticString, _ value: Int) {
        key(name, .integer())
        raw(String(value))
    }

    mutating func field(_ name: StaticString, _ value: Int?) {
        key(name, .nullable(.integer()))
        raw(value.map { String($0) } ?? "null")
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name, .boolean)
        raw(value ? "true" : "false")
    }

    mutating func field(_ name: StaticString, _ value: Double) {
        key(name, .number)
        raw(value.isFinite ? String(value) : "null")
    }

    mutating func field(_ name: StaticString, _ values: [String]) {
        key(name, .array(.string()))
        strings(values)
    }

    mutating func field(_ name: StaticString, _ values: [String]?) {
        key(name, .nullable(.array(.string())))
        if let values { strings(values) } else { raw("null") }
    }

    private mutating func strings(_ values: [String]) {
        raw("[")
        for (index, value) in values.enumerated() {
            if index > 0 { raw(",") }
            string(value)
        }
        raw("]")
    }

    mutating func field(_ name: StaticString, _ value: Bool?) {
        key(name, .nullable(.boolean))
        raw(value.map { $0 ? "true" : "false" } ?? "null")
    }

    mutating func field<Model: ResponseModel>(_ name: StaticString, _ value: Model) {
        key(name, .object(Model.schema))
        if !describing { bytes.append(contentsOf: value.jsonBytes) }
    }

    mutating func field<Model: ResponseModel>(_ name: StaticString, _ value: Model?) {
        key(name, .nullable(.object(Model.schema)))
        guard let value else { return raw("null") }
        if !describing { bytes.append(contentsOf: value.jsonBytes) }
    }

    mutating func field<Model: ResponseModel>(_ name: StaticString, _ values: [Model]) {
        key(name, .array(.object(Model.schema)))
        raw("[")
        for (index, value) in values.enumerated() {
            if index > 0 { raw(",") }
            if !describing { bytes.append(contentsOf: value.jsonBytes) }
        }
        raw("]")
    }
}

/// A JSON response's type: its fields, written (and described) by `write(to:)`.
protocol ResponseModel: ResponseBody, Sendable {
    /// The schema's name in the OpenAPI document.
    static var schemaName: String { get }
    /// A value to describe the fields with (its values are not shown).
    static var example: Self { get }
    func write(to object: inout FieldWriter)
}

extension ResponseModel {
    static var schema: ObjectSchema {
        var writer = FieldWriter(describing: true)
        example.write(to: &writer)
        return ObjectSchema(name: schemaName, properties: writer.properties)
    }

    var jsonBytes: [UInt8] {
        var writer = FieldWriter()
        write(to: &writer)
        return writer.finish()
    }

    static var bodySchema: Schema { .object(schema) }
    static var contentType: String { "application/json" }
    var body: [UInt8] { jsonBytes }
    static var exampleBody: [UInt8]? { example.jsonBytes }
}

/// What a route's handler answers with: its bytes, their media type and their schema.
protocol ResponseBody: SendableMetatype {
    static var contentType: String { get }
    static var bodySchema: Schema { get }
    var body: [UInt8] { get }
    /// `Content-Type` and any other header the answer carries.
    var headers: [(String, String)] { get }
    /// An answer to show in the document, as JSON; nil where there is none.
    static var exampleBody: [UInt8]? { get }
    /// A status of the answer's own instead of the route's (a 304 to a conditional request); nil for most.
    var statusOverride: HTTPStatus? { get }
}

extension ResponseBody {
    var headers: [(String, String)] { [("Content-Type", Self.contentType)] }
    static var exampleBody: [UInt8]? { nil }
    var statusOverride: HTTPStatus? { nil }
}

/// A JSON list of models (`GET /api/v1/auth/sessions`).
extension Array: ResponseBody where Element: ResponseModel {
    static var contentType: String { "application/json" }
    static var bodySchema: Schema { .array(.object(Element.schema)) }
    static var exampleBody: [UInt8]? { [Element.example].body }
    var body: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, element) in enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: element.jsonBytes)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
