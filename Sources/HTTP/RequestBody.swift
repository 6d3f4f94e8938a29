/// A request's JSON object body, parsed as FastAPI would parse it; `FieldReader` reads its fields.
public struct RequestBody {
    public let value: JSONValue

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
}
