/// Reads a JSON object body field by field, collecting every problem into one FastAPI-shaped 422.
///
/// ```swift
/// var body = try context.jsonBody()
/// let email = body.string("email")
/// try body.finish()   // throws ValidationError listing every missing or mistyped field
/// ```
public struct RequestBody {
    public let value: JSONValue
    public private(set) var issues: [ValidationIssue] = []

    /// Parses the body as FastAPI does. With no content type, or `application/json` or `application/*+json`
    /// (parameters allowed), it is JSON; with any other type the body is not read as JSON and fails as a
    /// non-object would. Malformed JSON is `json_invalid`; an object or array with more than
    /// `limits.maximumMembers` members is `too_long` at its location; anything but an object is
    /// `model_attributes_type`.
    public init(_ request: HTTPRequest, limits: JSONParser.Limits = JSONParser.Limits()) throws(ValidationError) {
        if request.body.isEmpty {
            throw ValidationError([ValidationIssue(location: ["body"], message: "Field required", type: "missing")])
        }
        guard Self.isJSON(contentType: request.contentType) else { throw Self.notAnObject }
        do {
            value = try JSONParser.parse(request.body, limits: limits)
        } catch {
            if let path = error.tooLongAt {
                throw ValidationError([ValidationIssue(
                    location: ["body"] + path, message: "Value should have at most \(limits.maximumMembers) items",
                    type: "too_long", context: .object([("max_length", .integer(limits.maximumMembers))]))])
            }
            throw ValidationError([ValidationIssue(
                location: ["body", .integer(error.position)], message: "JSON decode error", type: "json_invalid",
                context: .object([("error", .string(error.reason))]))])
        }
        guard case .object = value else { throw Self.notAnObject }
    }

    private static let notAnObject = ValidationError([ValidationIssue(
        location: ["body"], message: "Input should be a valid dictionary or object to extract fields from",
        type: "model_attributes_type")])

    /// FastAPI reads a body as JSON when it has no content type or an `application/json`-like media type.
    static func isJSON(contentType: String?) -> Bool {
        guard let contentType, !contentType.isEmpty else { return true }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .trimmingWhitespace().lowercased()
        guard mediaType.hasPrefix("application/") else { return false }
        let subtype = mediaType.dropFirst("application/".count)
        guard !subtype.contains("/") else { return false }  // Python's email parser makes such a type text/plain
        return subtype == "json" || subtype.hasSuffix("+json")
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
        // Counted in code points, as PostgreSQL's length() and Python's len() count.
        if text.unicodeScalars.count > maxLength {
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
