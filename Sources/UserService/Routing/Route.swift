import HTTP
/// One entry of the route table (`Routes.table`): everything about a route lives here, and the router, the access
/// check, the OpenAPI document, the rendered nginx maps and the metrics labels all read it.
struct Route: Sendable {
    enum Access: String, Sendable {
        /// Anyone.
        case anyone
        /// A bearer access token of a live session.
        case bearer
        /// A live session of an account whose premium has not lapsed.
        case premium
        /// A live session of an administrator.
        case admin

        /// The caller may go on; checked in the query that loads the session (the user's row as it is now), never
        /// from the token's claims, so a downgrade or a revoked role holds from the next request.
        func authorize(_ caller: Caller) throws(APIError) {
            switch self {
            case .anyone, .bearer: return
            case .premium: if !caller.user.isPremium { throw APIError(.forbidden, "Premium subscription required") }
            case .admin: if !caller.user.isAdmin { throw APIError(.forbidden, "Administrator privileges required") }
            }
        }
    }

    /// Which workers serve it: the password workers run bcrypt, so nothing else queues behind it.
    enum Workers: String, Sendable { case main, password }

    /// nginx's per-client rate-limit group: `strict` for endpoints that hash passwords or guess secrets.
    enum RateGroup: String, Sendable { case general, strict }

    enum Tag: String, Sendable {
        case system, auth, users, admin, docs
        /// The public keys that verify access tokens, and where to find them.
        case keys

        /// Whether answers of this group are `Cache-Control: no-store` unless a route says otherwise.
        var noStore: Bool { self == .auth || self == .users || self == .admin }
        /// Whether its routes appear in the OpenAPI document: the document and its pages do not, as in FastAPI.
        var isDescribed: Bool { self != .docs }
    }

    let method: HTTPMethod
    let path: String
    let summary: String
    let tag: Tag
    let access: Access
    /// Only the private allow-list (`PRIVATE_ALLOW`) may call it: nginx answers everyone else 403.
    let isPrivate: Bool
    let workers: Workers
    let rateGroup: RateGroup
    let noStore: Bool
    /// Whether it needs PostgreSQL (and so can answer 503).
    let usesDatabase: Bool
    let status: HTTPStatus
    let requestBody: ObjectSchema?
    let queryParameters: [ObjectSchema.Property]
    /// The path parameters its input checks (a UUID, say); the others are any non-empty segment.
    let pathParameters: [ObjectSchema.Property]
    let responseContentType: String
    let responseSchema: Schema
    /// Examples for the document.
    let requestExample: JSONValue?
    let responseExample: JSONValue?
    /// Errors the handler itself can answer; those that follow from the attributes above (401, 403, 413, 422,
    /// 429, 503) are added by `errorResponses`.
    let errors: [ErrorResponse]
    let handle: @Sendable (Routes.Controllers, RequestContext) throws -> HTTPResponse

    /// The options every route may set, with their defaults.
    struct Options: Sendable {
        var status: HTTPStatus = .ok
        var isPrivate = false
        var workers: Workers = .main
        var rateGroup: RateGroup = .general
        var noStore: Bool?
        var usesDatabase = true
        var errors: [ErrorResponse] = []
        /// `.premium` or `.admin` for a route whose handler takes a `Caller`.
        var access: Access = .bearer
    }
}

/// An error answer a route declares: its status and the schema of its body (`{"detail": "..."}` unless said).
struct ErrorResponse: Sendable {
    let status: HTTPStatus
    let schema: ObjectSchema

    init(_ status: HTTPStatus, _ model: any ResponseModel.Type = ErrorDetail.self) {
        self.init(status, schema: model.schema)
    }

    private init(_ status: HTTPStatus, schema: ObjectSchema) {
        self.status = status
        self.schema = schema
    }

    /// FastAPI's 422: `{"detail": [{"type", "loc", "msg", "ctx"?}]}`.
    static let validation = ErrorResponse(.unprocessableEntity, schema: ValidationErrorSchema.body)

    static let badRequest = ErrorResponse(.badRequest)
    static let unauthorized = ErrorResponse(.unauthorized)
    static let forbidden = ErrorResponse(.forbidden)
    static let notFound = ErrorResponse(.notFound)
    static let conflict = ErrorResponse(.conflict)
    static let tooManyRequests = ErrorResponse(.tooManyRequests)
}

extension Route {
    private init<Response: ResponseBody>(
        _ method: HTTPMethod, _ path: String, _ summary: String, tag: Tag, access: Access, input: (any RouteInput.Type)?,
        response: Response.Type, options: Options, handle: @escaping @Sendable (Routes.Controllers, RequestContext) throws -> HTTPResponse
    ) {
        // A route on the password workers hashes passwords: it is in the strict group too, or a client could run
        // bcrypt at the general rate.
        precondition(access != .anyone || options.access == .bearer, "\(method) \(path): a premium or admin route's handler takes a Caller")
        precondition(options.workers != .password || options.rateGroup == .strict, "\(method) \(path): password workers need the strict rate group")
        self.method = method
        self.path = path
        self.summary = summary
        self.tag = tag
        self.access = access
        isPrivate = options.isPrivate
        workers = options.workers
        rateGroup = options.rateGroup
        noStore = options.noStore ?? tag.noStore
        usesDatabase = options.usesDatabase || access != .anyone
        status = options.status
        requestBody = input?.requestBody
        queryParameters = input?.queryParameters ?? []
        pathParameters = input?.pathParameters ?? []
        responseContentType = Response.contentType
        responseSchema = Response.bodySchema
        requestExample = input?.requestExample
        responseExample = Response.exampleBody.flatMap { try? JSONParser.parse($0) }
        errors = options.errors
        self.handle = handle
    }

    /// A public route without input.
    init<Response: ResponseBody>(
        _ method: HTTPMethod, _ path: String, _ summary: String, tag: Tag, _ options: Options = Options(),
        handler: @escaping @Sendable (Routes.Controllers) -> (RequestContext) throws -> Response
    ) {
        self.init(method, path, summary, tag: tag, access: .anyone, input: nil, response: Response.self, options: options) {
            controllers, context in
            try handler(controllers)(context).httpResponse(status: options.status)
        }
    }

    /// A public route that reads a body or query parameters.
    init<Input: RouteInput, Response: ResponseBody>(
        _ method: HTTPMethod, _ path: String, _ summary: String, tag: Tag, _ options: Options = Options(),
        handler: @escaping @Sendable (Routes.Controllers) -> (RequestContext, Input) throws -> Response
    ) {
        self.init(method, path, summary, tag: tag, access: .anyone, input: Input.self, response: Response.self, options: options) {
            controllers, context in
            try handler(controllers)(context, try Input.read(from: context, rules: controllers.passwordRules)).httpResponse(status: options.status)
        }
    }

    /// A route for the caller of a live session, without input. The token is checked here, before the handler.
    init<Response: ResponseBody>(
        _ method: HTTPMethod, _ path: String, _ summary: String, tag: Tag, _ options: Options = Options(),
        handler: @escaping @Sendable (Routes.Controllers) -> (Caller, RequestContext) throws -> Response
    ) {
        self.init(method, path, summary, tag: tag, access: options.access, input: nil, response: Response.self, options: options) {
            controllers, context in
            let caller = try controllers.authenticator.authenticate(context.request)
            try options.access.authorize(caller)
            return try handler(controllers)(caller, context).httpResponse(status: options.status)
        }
    }

    /// A route for the caller of a live session that reads a body or query parameters: the token is checked
    /// first, as FastAPI resolves a security dependency before the body.
    init<Input: RouteInput, Response: ResponseBody>(
        _ method: HTTPMethod, _ path: String, _ summary: String, tag: Tag, _ options: Options = Options(),
        handler: @escaping @Sendable (Routes.Controllers) -> (Caller, RequestContext, Input) throws -> Response
    ) {
        self.init(method, path, summary, tag: tag, access: options.access, input: Input.self, response: Response.self, options: options) {
            controllers, context in
            let caller = try controllers.authenticator.authenticate(context.request)
            try options.access.authorize(caller)
            return try handler(controllers)(caller, context, try Input.read(from: context, rules: controllers.passwordRules)).httpResponse(status: options.status)
        }
    }
}

extension ResponseBody {
    func httpResponse(status: HTTPStatus) -> HTTPResponse {
        HTTPResponse(status: statusOverride ?? status, headers: headers, body: body)
    }
}
