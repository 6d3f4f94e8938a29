import HTTP
/// Reads the fields of a request body (or query) into a typed value, and describes them.
///
/// A model's `init(reading:)` is the one place its fields are declared: run on a request, the reader hands out
/// values and collects every problem into one FastAPI-shaped 422; run `describing`, it records each field's
/// schema for the OpenAPI document and hands out placeholders. A field that is missing or invalid reads as a
/// placeholder too (the 422 is thrown before the value is used), so models need no optionals they do not mean.
struct FieldReader {
    private let object: JSONValue?
    private let rules: PasswordRules?
    /// Where the fields are: `["body"]`, or a nested object's place in it.
    private let location: [JSONValue]
    private(set) var issues: [ValidationIssue] = []
    private(set) var properties: [ObjectSchema.Property] = []
    /// Whether members the model did not declare are refused (`refuseUndeclared`).
    private(set) var isClosed = false
    private var readFields: Set<String> = []
    private var declaredFields: Set<String> = []

    /// Reads the members of `object`, a body parsed by `RequestBody`; new passwords are checked against `rules`.
    init(body object: JSONValue, rules: PasswordRules?) {
        self.init(object: object, location: ["body"], rules: rules)
    }

    /// Reads a nested object found at `location`.
    init(object: JSONValue, location: [JSONValue]) {
        self.init(object: object, location: location, rules: nil)
    }

    /// Records the fields' schemas instead of reading values.
    static func describing() -> FieldReader { FieldReader(object: nil, location: ["body"], rules: nil) }

    private init(object: JSONValue?, location: [JSONValue], rules: PasswordRules?) {
        self.object = object
        self.location = location
        self.rules = rules
    }

    var isDescribing: Bool { object == nil }

    /// Records a problem with `field` (nothing while describing).
    mutating func fail(_ field: String, _ message: String, type: String = "value_error") {
        guard !isDescribing else { return }
        issues.append(ValidationIssue(location: location + [.string(field)], message: message, type: type))
    }

    /// Whether `field` held a value that passed its rule (an empty string included): checks that compare values
    /// run only then, so a missing or mistyped field gets one problem, not several.
    func wasRead(_ field: String) -> Bool { readFields.contains(field) }

    /// A required field; `placeholder` stands in while describing or when the field is missing or invalid.
    mutating func required<Value>(_ field: String, _ rule: FieldRule<Value>, placeholder: Value) -> Value {
        declare(field, rule.schema, required: true)
        guard let raw = object?[field], raw != .null else {
            if !isDescribing { fail(field, "Field required", type: "missing") }
            return placeholder
        }
        return apply(rule, field, raw) ?? placeholder
    }

    /// An optional field: absent or null is nil.
    mutating func optional<Value>(_ field: String, _ rule: FieldRule<Value>) -> Value? {
        declare(field, .nullable(rule.schema), required: false)
        guard let raw = object?[field], raw != .null else { return nil }
        return apply(rule, field, raw)
    }

    /// A field of a partial update: absent (leave it), null (clear it) or a value. An invalid value is a
    /// problem and reads as absent.
    mutating func patch<Value>(_ field: String, _ rule: FieldRule<Value>) -> Patch<Value> {
        declare(field, .nullable(rule.schema), required: false)
        switch object?[field] {
        case nil: return .absent
        case .null?: return .null
        case let raw?: return apply(rule, field, raw).map(Patch.value) ?? .absent
        }
    }

    /// A field of a partial update that cannot be cleared: absent or a value; null is refused as an invalid value.
    mutating func update<Value>(_ field: String, _ rule: FieldRule<Value>) -> Value? {
        declare(field, rule.schema, required: false)
        guard let raw = object?[field] else { return nil }
        return apply(rule, field, raw)
    }

    /// Called after every field is declared: any other member is a 422 naming it (Pydantic's `extra="forbid"`),
    /// so a field the caller does not own — or one a later release adds — is never silently ignored.
    mutating func refuseUndeclared() {
        isClosed = true
        guard case .object(let members)? = object else { return }
        for (field, _) in members where !declaredFields.contains(field) {
            fail(field, "Extra inputs are not permitted", type: "extra_forbidden")
        }
    }

    /// A required string of at most `maxLength` code points.
    mutating func string(_ field: String, maxLength: Int, format: String? = nil) -> String {
        required(field, .string(maxLength: maxLength, format: format), placeholder: "")
    }

    /// An optional string: absent or null is nil.
    mutating func optionalString(_ field: String, maxLength: Int, format: String? = nil) -> String? {
        optional(field, .string(maxLength: maxLength, format: format))
    }

    /// A string field of a partial update.
    mutating func patchString(_ field: String, maxLength: Int, format: String? = nil) -> Patch<String> {
        patch(field, .string(maxLength: maxLength, format: format))
    }

    /// A password being set: a required string, checked against the password rules.
    mutating func newPassword(_ field: String, email: String?, username: String?) -> String {
        let password = string(field, maxLength: PasswordRules.maximumInputLength, format: "password")
        if wasRead(field), let rules {
            for problem in rules.problems(with: password, email: email, username: username) { fail(field, "Value error, \(problem)") }
        }
        return password
    }

    private mutating func declare(_ field: String, _ schema: @autoclosure () -> Schema, required: Bool) {
        declaredFields.insert(field)
        if isDescribing { properties.append(.init(name: field, schema: schema(), required: required)) }
    }

    private mutating func apply<Value>(_ rule: FieldRule<Value>, _ field: String, _ raw: JSONValue) -> Value? {
        guard let value = rule.parse(raw, location + [.string(field)], &issues) else { return nil }
        readFields.insert(field)
        return value
    }

    func finish() throws(ValidationError) {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}

/// A field of a partial update.
enum Patch<Value> {
    case absent
    case null
    case value(Value)
}

extension Patch: Equatable where Value: Equatable {}

extension Patch where Value == String {
    /// `""` clears the field as `null` does: a field never set or cleared is null, never "".
    var emptyCleared: Patch {
        if case .value("") = self { return .null }
        return self
    }
}

/// A request body's type: its fields, read (and described) by `init(reading:)`.
protocol RequestModel: RouteInput {
    /// The schema's name in the OpenAPI document.
    static var schemaName: String { get }
    /// A body to show in the document (the seed's own examples where it has them).
    static var example: JSONValue? { get }
    init(reading body: inout FieldReader)
}

extension RequestModel {
    static var example: JSONValue? { nil }

    static var schema: ObjectSchema {
        var reader = FieldReader.describing()
        _ = Self(reading: &reader)
        return ObjectSchema(name: schemaName, properties: reader.properties, closed: reader.isClosed)
    }

}
