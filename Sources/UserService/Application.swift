public import HTTP
public import Metrics
import Postgres

/// The responder: routes a request, runs its handler, and turns every error into HTTP in one place.
/// It knows nothing of FastCGI, so tests call it with a request value.
public final class Application: HTTPResponder {
    public let configuration: Configuration
    let services: Services
    let router: Router
    private let jsonLimits: JSONParser.Limits
    private var metrics: ServiceMetrics { services.metrics }

    /// What a worker will need from disk, checked by the master at start and on reload: a folder of docs assets
    /// that cannot be read is refused there, with one line, not found by every worker in a crash loop.
    public static func checkFiles(_ configuration: Configuration) throws {
        if configuration.docsEnabled { _ = try DocsAssets(directory: configuration.docsDirectory) }
    }

    /// Builds the worker's services; the dummy password hash is made here, at the configured cost. `layout` is
    /// the one the master made `counters` with; a route table it cannot label is refused.
    public init(configuration: Configuration, counters: SharedCounters, layout: MetricsLayout) throws {
        try layout.check(routeCount: Routes.table.count, counters: counters)
        self.configuration = configuration
        jsonLimits = JSONParser.Limits(maximumMembers: configuration.maxJSONMembers)
        // With the session cache, the worker's connection LISTENs for what changes a session check.
        let database = Database(configuration.connectionOptions(applicationName: "user-service"),
                                listening: configuration.sessionCacheSeconds > 0 ? [SessionCache.channel] : [])
        services = try Services(configuration: configuration, database: database,
                                metrics: ServiceMetrics(counters: counters, layout: layout))
        router = buildRouter(services)
        services.routes = router.routes
    }

    public var bodyLimit: Int { configuration.maxBodyBytes }

    public var idleIntervalMilliseconds: Int32? { services.sessionCheck.idleIntervalMilliseconds }

    public func idle() { services.sessionCheck.idle() }

    public func respond(to request: HTTPRequest) -> RoutedResponse {
        let start = Clock.nanoseconds()
        var routeIndex: Int?
        var route = "unmatched"
        var response: HTTPResponse
        switch router.match(method: request.method, path: request.path) {
        case .found(let matched, let parameters):
            routeIndex = matched.index
            route = matched.template
            if request.contentLength > configuration.maxBodyBytes {
                response = errorResponse(APIError.bodyTooLarge)
            } else {
                do {
                    response = try matched.handler(RequestContext(request: request, parameters: parameters, jsonLimits: jsonLimits))
                } catch {
                    response = errorResponse(error, route: route)
                }
            }
        case .methodNotAllowed(let allowed):
            response = errorResponse(APIError.methodNotAllowed(allowed: allowed))
        case .notFound:
            response = redirectWithoutTrailingSlash(request) ?? errorResponse(APIError.notFound)
        }
        // Before the answer leaves: what this request's transactions changed reaches the other workers' caches.
        services.sessionCheck.requestFinished()
        if let requestID = request.requestID { response.headers.append(("X-Request-ID", requestID)) }
        metrics.recordRequest(row: metrics.layout.row(routeIndex: routeIndex, method: request.method),
                              status: response.status.code, durationNanoseconds: Clock.nanoseconds() - start)
        return RoutedResponse(response: response, route: route)
    }

    /// FastAPI's `redirect_slashes`: `/api/v1/auth/me/` answers 307 to `/api/v1/auth/me` when that route exists.
    /// The link keeps the mount point, so it works under any prefix.
    private func redirectWithoutTrailingSlash(_ request: HTTPRequest) -> HTTPResponse? {
        // Bytes, as the router compares them: the last byte is "/" (a combining mark after it is not).
        guard request.path.utf8.count > 1, request.path.utf8.last == UInt8(ascii: "/") else { return nil }
        let trimmed = String(decoding: request.path.utf8.dropLast(), as: UTF8.self)
        guard case .found = router.match(method: request.method, path: trimmed) else { return nil }
        // The path arrives percent-decoded: encoded again, a %0D in it cannot become a raw CR in the header.
        let location = PercentEncoding.path(request.mountPath + trimmed) + (request.query.isEmpty ? "" : "?" + request.query)
        return HTTPResponse(status: .temporaryRedirect, headers: [("Location", location)])
    }

    /// The one place where errors become HTTP answers.
    private func errorResponse(_ error: any Error, route: String = "") -> HTTPResponse {
        if let error = error as? any HTTPResponseError {
            return HTTPResponse(status: error.status, headers: [("Content-Type", "application/json")] + error.headers, body: error.body)
        }
        if let error = error as? PostgresError {
            metrics.recordDatabaseError()
            if let known = ConstraintErrors.clientError(for: error) {
                if known.status == .serviceUnavailable { Log.write("database unavailable route=\(route) error=\(error)") }
                return errorResponse(known)
            }
            Log.write("database error route=\(route) error=\(error)")
        } else {
            Log.write("internal error route=\(route) error=\(String(describing: type(of: error)))")
        }
        return errorResponse(APIError.internalError)
    }
}

@available(*, unavailable)
extension Application: Sendable {}
