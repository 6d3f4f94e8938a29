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
    private let location: [JSONValue] = ["body"]
    private(set) var issues: [ValidationIssue] = []
    private(set) var properties: [ObjectSchema.Property] = []
    private var readFields: Set<String> = []

    /// Reads the members of `object`, a body parsed by `RequestBody`; new passwords are checked against `rules`.
    init(body object: JSONValue, rules: PasswordRules?) {
        self.object = object
        self.rules = rules
    }

    /// Records the fields' schemas instead of reading values.
    static func describing() -> FieldReader { FieldReader(object: nil, rules: nil) }

    private init(object: JSONValue?, rules: PasswordRules?) {
        self.object = object
        self.rules = rules
    }

    var isDescribing: Bool { object == nil }

    /// Records a problem with `field` (nothing while describing).
    mutating func fail(_ field: String, _ message: String, type: String = "value_error") {
        guard !isDescribing else { return }
        issues.append(ValidationIssue(location: location + [.string(field)], message: message, type: type))
    }

    /// Whether `field` held a string that passed the reader's own checks (an empty one included): the checks that
    /// compare values run only then, so a missing or mistyped field gets one problem, not several.
    func wasRead(_ field: String) -> Bool { readFields.contains(field) }

    /// A required string of at most `maxLength` code points.
    mutating func string(_ field: String, maxLength: Int, format: String? = nil) -> String {
        declare(field, .string(maxLength: maxLength, format: format), required: true)
        guard let raw = object?[field], raw != .null else {
            fail(field, "Field required", type: "missing")
            return ""
        }
        return check(field, raw, maxLength: maxLength) ?? ""
    }

    /// An optional string: absent or null is nil.
    mutating func optionalString(_ field: String, maxLength: Int, format: String? = nil) -> String? {
        declare(field, .nullable(.string(maxLength: maxLength, format: format)), required: false)
        guard let raw = object?[field], raw != .null else { return nil }
        return check(field, raw, maxLength: maxLength)
    }

    /// A password being set: a required string, checked against the password rules (not the other account
    /// values, which `differs(...)` compare).
    mutating func newPassword(_ field: String, email: String?, username: String?) -> String {
        let password = string(field, maxLength: PasswordRules.maximumInputLength, format: "password")
        if wasRead(field), let rules {
            for problem in rules.problems(with: password, email: email, username: username) { fail(field, "Value error, \(problem)") }
        }
        return password
    }

    /// A field of a partial update: absent (leave it), null (clear it) or a string.
    mutating func patchString(_ field: String, maxLength: Int, format: String? = nil) -> Patch<String> {
        declare(field, .nullable(.string(maxLength: maxLength, format: format)), required: false)
        switch object?[field] {
        case nil: return .absent
        case .null?: return .null
        case let raw?: return check(field, raw, maxLength: maxLength).map(Patch.value) ?? .absent
        }
    }

    private mutating func declare(_ field: String, _ schema: Schema, required: Bool) {
        if isDescribing { properties.append(.init(name: field, schema: schema, required: required)) }
    }

    private mutating func check(_ field: String, _ raw: JSONValue, maxLength: Int) -> String? {
        guard case .string(let text) = raw else {
            fail(field, "Input should be a valid string", type: "string_type")
            return nil
        }
        // Counted in code points, as PostgreSQL's length() and Python's len() count.
        if text.unicodeScalars.count > maxLength {
            issues.append(ValidationIssue(
                location: location + [.string(field)], message: "String should have at most \(maxLength) characters",
                type: "string_too_long", context: .object([("max_length", .integer(maxLength))])))
            return nil
        }
        if text.utf8.contains(0) {
            fail(field, "Value error, must not contain a NUL character")
            return nil
        }
        readFields.insert(field)
        return text
    }

    func finish() throws(ValidationError) {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}

/// A field of a partial update.
enum Patch<Value: Equatable>: Equatable {
    case absent
    case null
    case value(Value)
}

/// A request body's type: its fields, read (and described) by `init(reading:)`.
protocol RequestModel: RouteInput {
    /// The schema's name in the OpenAPI document.
    static var schemaName: String { get }
    init(reading body: inout FieldReader)
}

extension RequestModel {
    static var schema: ObjectSchema {
        var reader = FieldReader.describing()
        _ = Self(reading: &reader)
        return ObjectSchema(name: schemaName, properties: reader.properties)
    }

}
