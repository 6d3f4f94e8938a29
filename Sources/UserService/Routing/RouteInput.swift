import HTTP
/// What a route's handler reads: a JSON body (`RequestModel`), query parameters (`QueryModel`) or checked path
/// parameters (`PathModel`).
protocol RouteInput: SendableMetatype {
    static func read(from context: RequestContext, rules: PasswordRules) throws(ValidationError) -> Self
    /// The body's schema, for the document; nil for query input.
    static var requestBody: ObjectSchema? { get }
    static var queryParameters: [ObjectSchema.Property] { get }
    /// The `{placeholders}` it checks (`PathModel`), for the document; the others are described as plain strings.
    static var pathParameters: [ObjectSchema.Property] { get }
    static var requestExample: JSONValue? { get }
}

extension RouteInput {
    static var pathParameters: [ObjectSchema.Property] { [] }
}

extension RequestModel {
    static func read(from context: RequestContext, rules: PasswordRules) throws(ValidationError) -> Self {
        let body = try RequestBody(context.request, limits: context.jsonLimits)
        var reader = FieldReader(body: body.value, rules: rules)
        let value = Self(reading: &reader)
        try reader.finish()
        return value
    }

    static var requestBody: ObjectSchema? { schema }
    static var requestExample: JSONValue? { example }
    static var queryParameters: [ObjectSchema.Property] { [] }
}

extension QueryModel {
    static func read(from context: RequestContext, rules: PasswordRules) throws(ValidationError) -> Self {
        try decode(context.request)
    }
    static var requestBody: ObjectSchema? { nil }
    static var requestExample: JSONValue? { nil }
    static var queryParameters: [ObjectSchema.Property] { parameters }
}
