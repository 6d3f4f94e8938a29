import HTTP
/// Reads a route's `{placeholders}` into typed values, and describes them, as `QueryReader` does for the query:
/// problems are collected into one FastAPI-shaped 422 (`loc: ["path", name]`). The router binds any non-empty
/// segment; what a value must look like is checked here, after the caller's token (FastAPI resolves the security
/// dependency first).
struct PathReader {
    private let parameters: [String: String]?
    private(set) var issues: [ValidationIssue] = []
    private(set) var described: [ObjectSchema.Property] = []

    init(_ context: RequestContext) { parameters = context.parameters }

    static func describing() -> PathReader { PathReader(parameters: nil) }

    private init(parameters: [String: String]?) { self.parameters = parameters }

    /// A UUID in its canonical 8-4-4-4-12 form (either letter case), lower-cased: what PostgreSQL's uuid type
    /// prints, so it is compared as stored. Anything else is pydantic's `uuid_parsing` error.
    mutating func uuid(_ name: String) -> String {
        guard let parameters else {
            described.append(.init(name: name, schema: .string(format: "uuid"), required: true))
            return ""
        }
        let text = parameters[name] ?? ""
        guard UUIDText.isValid(text) else {
            issues.append(ValidationIssue(location: ["path", .string(name)], message: "Input should be a valid UUID",
                                          type: "uuid_parsing", context: .object([("error", "invalid UUID: expected the 8-4-4-4-12 hexadecimal form")])))
            return ""
        }
        return text.lowercased()
    }
}

/// A route's path parameters: read (and described) by `init(reading:)`.
protocol PathModel: RouteInput {
    init(reading path: inout PathReader)
}

extension PathModel {
    static func read(from context: RequestContext, rules: PasswordRules) throws(ValidationError) -> Self {
        var reader = PathReader(context)
        let value = Self(reading: &reader)
        if !reader.issues.isEmpty { throw ValidationError(reader.issues) }
        return value
    }

    static var requestBody: ObjectSchema? { nil }
    static var requestExample: JSONValue? { nil }
    static var queryParameters: [ObjectSchema.Property] { [] }
    static var pathParameters: [ObjectSchema.Property] {
        var reader = PathReader.describing()
        _ = Self(reading: &reader)
        return reader.described
    }
}
