import HTTP
import Metrics
import Testing
@testable import UserService

/// The responder called with request values: no FastCGI, no processes.
@Suite struct ApplicationTests {
    func application(maxBody: Int = 1024, extra: [String: String] = [:]) throws -> Application {
        var configuration = try Configuration.load(from: [
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/unreachable", "JWT_SECRET_KEY": String(repeating: "k", count: 32),
            "MAX_BODY_BYTES": String(maxBody), "DB_CONNECT_TIMEOUT_SECONDS": "1", "BCRYPT_ROUNDS": "4",
        ].merging(extra) { $1 }, defaultWorkers: 1)
        configuration.migrationsDirectory = shippedMigrationsPath()
        configuration.docsDirectory = shippedDocsPath()
        let layout = MetricsLayout(processCount: 1)
        return try Application(configuration: configuration, counters: try SharedCounters.create(slotCount: layout.slotCount), layout: layout)
    }

    func body(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func rootAnswersConstantData() throws {
        let outcome = try application().respond(to: HTTPRequest(method: "GET", path: "/", requestID: "r-1"))
        #expect(outcome.response.status == .ok)
        #expect(body(outcome.response) == #"{"service":"user-service","version":"1.0.0","status":"running"}"#)
        #expect(outcome.response.header("X-Request-ID") == "r-1")
        #expect(outcome.route == "/")
    }

    /// The key set (empty under HS256): public, no database, cacheable, revalidated by ETag.
    @Test func keySetIsCacheableAndRevalidated() throws {
        let app = try application()
        let first = app.respond(to: HTTPRequest(method: "GET", path: "/.well-known/jwks.json")).response
        #expect(first.status == .ok && body(first) == #"{"keys":[]}"#)
        #expect(first.header("Cache-Control") == "public, max-age=300")
        let tag = try #require(first.header("ETag"))
        let again = app.respond(to: HTTPRequest(method: "GET", path: "/.well-known/jwks.json", ifNoneMatch: tag)).response
        #expect(again.status == .notModified && again.body.isEmpty && again.header("ETag") == tag)
        let changed = app.respond(to: HTTPRequest(method: "GET", path: "/.well-known/jwks.json", ifNoneMatch: "\"old\"")).response
        #expect(changed.status == .ok && body(changed) == body(first))
    }

    /// Discovery built from the request's scheme, Host and mount point, or under an http(s) JWT_ISSUER from the
    /// issuer: never cacheable (the route is no-store, which nginx writes), varying with Host. The algorithms are the
    /// published keys' only: none under HS256, whose secret no sibling gets from the key set.
    @Test func discoveryIsNeverStoredAndNamesOnlyPublishedAlgorithms() throws {
        let request = HTTPRequest(method: "GET", path: "/.well-known/openid-configuration", mountPath: "/users-svc",
                                  host: "auth.example:8443", scheme: "https")
        let fromHost = try application().respond(to: request).response
        #expect(fromHost.status == .ok && fromHost.header("ETag") == nil && fromHost.header("Cache-Control") == nil)
        #expect(fromHost.header("Vary") == "Host")
        #expect(body(fromHost) == #"{"issuer":"user-service","jwks_uri":"https://auth.example:8443/users-svc/.well-known/jwks.json","id_token_signing_alg_values_supported":[]}"#)
        #expect(Routes.table.first { $0.path == "/.well-known/openid-configuration" }?.noStore == true)

        let fromIssuer = try application(extra: ["JWT_ISSUER": "https://id.example.com/users/"]).respond(to: request).response
        #expect(body(fromIssuer) == #"{"issuer":"https://id.example.com/users/","jwks_uri":"https://id.example.com/users/.well-known/jwks.json","id_token_signing_alg_values_supported":[]}"#)

        // Tokens without `iss` (JWT_ISSUER set empty): discovery names no issuer either.
        let noIssuer = try application(extra: ["JWT_ISSUER": ""]).respond(to: request).response
        #expect(body(noIssuer).hasPrefix(#"{"issuer":null,"jwks_uri":"https://auth.example:8443/users-svc/"#))
    }

    @Test func unknownPathAndWrongMethodInFastAPIShape() throws {
        let app = try application()
        let missing = app.respond(to: HTTPRequest(method: "GET", path: "/api/v1/nothing"))
        #expect(missing.response.status == .notFound && body(missing.response) == #"{"detail":"Not Found"}"#)
        #expect(missing.route == "unmatched")
        let wrong = app.respond(to: HTTPRequest(method: "POST", path: "/health"))
        #expect(wrong.response.status == .methodNotAllowed && body(wrong.response) == #"{"detail":"Method Not Allowed"}"#)
        #expect(wrong.response.header("Allow") == "GET")
    }

    @Test func trailingSlashRedirectsKeepingTheMountPoint() throws {
        let app = try application()
        let outcome = app.respond(to: HTTPRequest(method: "GET", path: "/health/", mountPath: "/users-svc", query: "a=1"))
        #expect(outcome.response.status == .temporaryRedirect)
        #expect(outcome.response.header("Location") == "/users-svc/health?a=1")
        // Only toward a route that exists, for that method.
        #expect(app.respond(to: HTTPRequest(method: "GET", path: "/nothing/")).response.status == .notFound)
        #expect(app.respond(to: HTTPRequest(method: "POST", path: "/health/")).response.status == .notFound)
    }

    /// The path arrives decoded: a %0D in it must not become a raw CR in the Location header.
    @Test func redirectLocationsNeverCarryControlCharacters() throws {
        let app = try application()
        let outcome = app.respond(to: HTTPRequest(method: "DELETE", path: "/api/v1/auth/sessions/a\rb é/", mountPath: "/svc"))
        #expect(outcome.response.status == .temporaryRedirect)
        #expect(outcome.response.header("Location") == "/svc/api/v1/auth/sessions/a%0Db%20%C3%A9")
        #expect(!outcome.response.headers.contains(where: HTTPResponse.isUnsafe))
        #expect(HTTPResponse.isUnsafe(("Location", "/a\r\nSet-Cookie: x")) && !HTTPResponse.isUnsafe(("Location", "/a%0D")))
    }

    @Test func bodyOverTheLimitIsRefusedBeforeParsing() throws {
        let app = try application(maxBody: 1024)
        let outcome = app.respond(to: HTTPRequest(method: "GET", path: "/", contentLength: 5000))
        #expect(outcome.response.status == .contentTooLarge)
        #expect(body(outcome.response) == #"{"detail":"Request body too large"}"#)
    }

    @Test func unreachableDatabaseIsA503NotACrash() throws {
        let app = try application()
        let health = app.respond(to: HTTPRequest(method: "GET", path: "/health"))
        #expect(health.response.status == .serviceUnavailable)
        #expect(body(health.response).contains(#""detail":"Database unavailable""#))
        let status = app.respond(to: HTTPRequest(method: "GET", path: "/db/status"))
        #expect(status.response.status == .serviceUnavailable)
        #expect(body(status.response) == #"{"detail":"Database unavailable","connected":false}"#)
    }

    @Test func metricsCountEveryRequestByRouteAndStatus() throws {
        let app = try application()
        _ = app.respond(to: HTTPRequest(method: "GET", path: "/"))
        _ = app.respond(to: HTTPRequest(method: "GET", path: "/"))
        _ = app.respond(to: HTTPRequest(method: "GET", path: "/random/\(Int.random(in: 0...1000))"))
        _ = app.respond(to: HTTPRequest(method: "BREW", path: "/x"))
        let text = body(app.respond(to: HTTPRequest(method: "GET", path: "/metrics")).response)
        #expect(text.contains(#"user_service_requests_total{route="/",method="GET",status="200"} 2"#))
        #expect(text.contains(#"user_service_requests_total{route="unmatched",method="GET",status="404"} 1"#))
        #expect(text.contains(#"user_service_requests_total{route="unmatched",method="OTHER",status="404"} 1"#))
        #expect(text.contains(#"user_service_request_duration_seconds_count{route="/",method="GET"} 2"#))
        #expect(text.contains("# TYPE user_service_request_duration_seconds histogram"))
    }
}
