/// Reads a JSON object body field by field, collecting every problem into one FastAPI-shaped 422.
///
/// ```swift
/// var body = try RequestBody(request)
/// let email = body.string("email")
/// try body.finish()   // throws ValidationError listing every missing or mistyped field
/// ```
public struct RequestBody {
    public let value: JSONValue
    public private(set) var issues: [ValidationIssue] = []

    /// Parses the body. Malformed JSON is FastAPI's `json_invalid`; anything but an object is `model_attributes_type`.
    public init(_ request: HTTPRequest) throws(ValidationError) {
        if request.body.isEmpty {
            throw ValidationError([ValidationIssue(location: ["body"], message: "Field required", type: "missing")])
        }
        do {
            value = try JSONParser.parse(request.body)
        } catch {
            throw ValidationError([ValidationIssue(
                location: ["body", .integer(error.position)], message: "JSON decode error", type: "json_invalid",
                context: .object([("error", .string(error.reason))]))])
        }
        guard case .object = value else {
            throw ValidationError([ValidationIssue(
                location: ["body"], message: "Input should be a valid dictionary or object to extract fields from",
                type: "model_attributes_type")])
        }
    }

    public mutating func fail(_ field: String, _ message: String, type: String = "value_error") {
        issues.append(ValidationIssue(location: ["body", .string(field)], message: message, type: type))
    }

    /// A required string, or nil after recording why it is missing or not a string.
    public mutating func string(_ field: String, maxLength: Int = 1024) -> String? {
        guard let raw = value[field], raw != .null else {
            fail(field, "Field required", type: "missing")
            return nil
        }
        return check(field, raw, maxLength: maxLength)
    }

    /// An optional string: absent or null is nil without complaint.
    public mutating func optionalString(_ field: String, maxLength: Int = 1024) -> String?? {
        guard let raw = value[field], raw != .null else { return .some(nil) }
        guard let text = check(field, raw, maxLength: maxLength) else { return nil }
        return .some(text)
    }

    private mutating func check(_ field: String, _ raw: JSONValue, maxLength: Int) -> String? {
        guard case .string(let text) = raw else {
            fail(field, "Input should be a valid string", type: "string_type")
            return nil
        }
        if text.count > maxLength {
            issues.append(ValidationIssue(
                location: ["body", .string(field)], message: "String should have at most \(maxLength) characters",
                type: "string_too_long", context: .object([("max_length", .integer(maxLength))])))
            return nil
        }
        if text.utf8.contains(0) {
            fail(field, "Value error, must not contain a NUL character")
            return nil
        }
        return text
    }

    public func finish() throws(ValidationError) {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}
