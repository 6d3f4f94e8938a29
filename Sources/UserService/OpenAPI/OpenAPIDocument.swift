import HTTP
/// `GET /openapi.json`: the OpenAPI 3.1 document, generated from the route table and the models' own reading and
/// writing code. Everything but `servers` is built once; `servers` names the request's mount point, so one pool
/// answers correctly at the root and under any prefix.
enum OpenAPIDocument {
    static let title = "User Service"
    static let securityScheme = "HTTPBearer"

    /// The document for a request mounted at `mountPath` (`SCRIPT_NAME`).
    static func json(mountPath: String) -> [UInt8] {
        JSONValue.object([
            ("openapi", "3.1.0"),
            ("info", .object([
                ("title", .string(title)), ("version", .string(ServiceVersion.version)),
                ("description", "User accounts and authentication: registration, login, JWT access tokens, rotating refresh tokens, sessions."),
                ("license", .object([("name", "MIT"), ("identifier", "MIT")])),
            ])),
            // The mount point arrives decoded: encoded again, it is a valid URL whatever it holds.
            ("servers", .array([.object([("url", .string(mountPath.isEmpty ? "/" : PercentEncoding.path(mountPath)))])])),
            ("paths", body.paths),
            ("components", body.components),
        ]).bytes
    }

    /// Paths and components: the same for every request.
    private static let body: (paths: JSONValue, components: JSONValue) = {
        var schemas: [String: JSONValue] = [:]
        var paths: [(String, JSONValue)] = []
        for route in Routes.table where route.tag.isDescribed {
            let operation = (route.method.rawValue.lowercased(), Self.operation(route, schemas: &schemas))
            if let index = paths.firstIndex(where: { $0.0 == route.path }), case .object(var operations) = paths[index].1 {
                operations.append(operation)
                paths[index].1 = .object(operations)
            } else {
                paths.append((route.path, .object([operation])))
            }
        }
        let components = JSONValue.object([
            ("schemas", .object(schemas.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
            ("securitySchemes", .object([(securityScheme, .object([("type", "http"), ("scheme", "bearer"), ("bearerFormat", "JWT")]))])),
        ])
        return (.object(paths), components)
    }()

    /// `post_api_v1_auth_login`; `get_root` for `/`.
    static func operationID(_ route: Route) -> String {
        let path = route.path == "/" ? "_root" : route.path.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        return route.method.rawValue.lowercased() + path.replacingRuns(of: "_")
    }

    private static func operation(_ route: Route, schemas: inout [String: JSONValue]) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("tags", .array([.string(route.tag.rawValue)])), ("summary", .string(route.summary)),
            ("operationId", .string(operationID(route))),
        ]
        let parameters = pathParameters(route) + route.queryParameters.map { parameter in
            JSONValue.object([("name", .string(parameter.name)), ("in", "query"), ("required", .bool(parameter.required)),
                              ("schema", parameter.schema.json(components: &schemas))])
        }
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if let body = route.requestBody {
            members.append(("requestBody", .object([
                ("required", true),
                ("content", .object([("application/json", media(Schema.object(body), example: route.requestExample, schemas: &schemas))])),
            ])))
        }
        var responses: [(String, JSONValue)] = [(String(route.status.code), response(
            description: route.status.reasonPhrase, contentType: route.responseContentType, schema: route.responseSchema,
            example: route.responseExample, schemas: &schemas))]
        for error in errorResponses(route) {
            responses.append((String(error.status.code), response(
                description: error.status.reasonPhrase, contentType: "application/json", schema: .object(error.schema), schemas: &schemas)))
        }
        members.append(("responses", .object(responses.sorted { $0.0 < $1.0 })))
        if route.access != .anyone { members.append(("security", .array([.object([(securityScheme, .array([]))])]))) }
        return .object(members)
    }

    private static func pathParameters(_ route: Route) -> [JSONValue] {
        route.path.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }.map { segment in
            let name = String(segment.dropFirst().dropLast())
            var unused: [String: JSONValue] = [:]
            let schema = route.pathParameters.first { $0.name == name }?.schema.json(components: &unused) ?? .object([("type", "string")])
            return .object([("name", .string(name)), ("in", "path"), ("required", true), ("schema", schema)])
        }
    }

    private static func response(description: String, contentType: String, schema: Schema, example: JSONValue? = nil,
                                 schemas: inout [String: JSONValue]) -> JSONValue {
        .object([("description", .string(description)),
                 ("content", .object([(contentType, media(schema, example: example, schemas: &schemas))]))])
    }

    private static func media(_ schema: Schema, example: JSONValue?, schemas: inout [String: JSONValue]) -> JSONValue {
        var members: [(String, JSONValue)] = [("schema", schema.json(components: &schemas))]
        if let example { members.append(("example", example)) }
        return .object(members)
    }

    /// Every error the route can answer: those its attributes imply, then the ones it declares (which win).
    static func errorResponses(_ route: Route) -> [ErrorResponse] {
        var errors: [ErrorResponse] = []
        if route.access != .anyone { errors.append(.unauthorized) }
        if route.access == .premium || route.access == .admin { errors.append(.forbidden) }
        if route.isPrivate { errors.append(.forbidden) }
        errors.append(ErrorResponse(.contentTooLarge))  // a declared body over MAX_BODY_BYTES, on any route
        if route.requestBody != nil || !route.queryParameters.isEmpty || !route.pathParameters.isEmpty { errors.append(.validation) }
        errors.append(.tooManyRequests)  // nginx's per-client rate limits
        if route.usesDatabase { errors.append(ErrorResponse(.serviceUnavailable)) }
        for declared in route.errors {
            errors.removeAll { $0.status == declared.status }
            errors.append(declared)
        }
        // One answer per status: the first of each (a declared one replaced the implied ones above).
        var seen = Set<Int>()
        return errors.filter { seen.insert($0.status.code).inserted }
    }
}

private extension String {
    /// "post__api_v1" → "post_api_v1": runs of `character` become one, and none is left at the end.
    func replacingRuns(of character: Character) -> String {
        var out = ""
        for next in self where !(next == character && out.last == character) { out.append(next) }
        while out.last == character { out.removeLast() }
        return out
    }
}

/// The document as an answer.
struct OpenAPIJSON: ResponseBody {
    static let contentType = "application/json"
    static let bodySchema = Schema.anyObject
    let body: [UInt8]
}
