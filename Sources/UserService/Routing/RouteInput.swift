import HTTP
/// What a route's handler reads besides the path: a JSON body (`RequestModel`) or query parameters (`QueryModel`).
protocol RouteInput: SendableMetatype {
    static func read(from context: RequestContext, rules: PasswordRules) throws(ValidationError) -> Self
    /// The body's schema, for the document; nil for query input.
    static var requestBody: ObjectSchema? { get }
    static var queryParameters: [ObjectSchema.Property] { get }
    static var requestExample: JSONValue? { get }
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
