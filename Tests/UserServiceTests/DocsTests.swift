import Metrics
import HTTP
import Testing
@testable import UserService

/// `/openapi.json`, `/docs`, `/redoc` and their assets, through the responder (the browser test is in Tests/e2e).
@Suite struct DocsTests {
    func application(_ settings: [String: String] = [:]) throws -> Application {
        var configuration = try Configuration.load(from: [
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/unreachable", "JWT_SECRET_KEY": String(repeating: "k", count: 32),
            "BCRYPT_ROUNDS": "4",
        ].merging(settings) { $1 }, defaultWorkers: 1)
        if settings["DOCS_DIR"] == nil { configuration.docsDirectory = shippedDocsPath() }
        let layout = MetricsLayout(processCount: 1)
        return try Application(configuration: configuration, counters: try SharedCounters.create(slotCount: layout.slotCount), layout: layout)
    }

    func get(_ app: Application, _ path: String, mountPath: String = "") -> HTTPResponse {
        app.respond(to: HTTPRequest(method: "GET", path: path, mountPath: mountPath)).response
    }

    func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    /// The `src`/`href` values of a page.
    func links(_ page: String) -> [String] {
        page.split(separator: "\"").enumerated().compactMap { index, part in
            index % 2 == 1 && part.hasPrefix("/") ? String(part) : nil
        }
    }

    @Test func pagesPointAtTheDocumentAndAssetsUnderTheMountPoint() throws {
        let app = try application()
        for mount in ["", "/users-svc"] {
            for path in ["/docs", "/redoc"] {
                let page = get(app, path, mountPath: mount)
                #expect(page.status == .ok && page.header("Content-Type") == "text/html; charset=utf-8")
                #expect(page.header("Content-Security-Policy")?.contains("script-src 'self';") == true)
                let html = text(page)
                #expect(!html.contains("<script>"), "no inline script")
                #expect(html.contains("\"\(mount)/openapi.json\""))
                for link in links(html) where link.contains("/assets/") {
                    #expect(link.hasPrefix(mount + "/docs/assets/"))
                    let asset = get(app, String(link.dropFirst(mount.count)), mountPath: mount)
                    #expect(asset.status == .ok && asset.header("Cache-Control") == "public, max-age=31536000, immutable")
                    #expect(asset.header("Content-Type") == (link.hasSuffix(".css") ? "text/css; charset=utf-8" : "application/javascript; charset=utf-8"))
                }
            }
        }
    }

    @Test func aMountPointCannotBreakOutOfTheAttribute() throws {
        let html = text(get(try application(), "/docs", mountPath: "/a\"><script>alert(1)</script>&'"))
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("data-openapi-url=\"/a%22%3E%3Cscript%3Ealert(1)%3C/script%3E&amp;&#39;/openapi.json\""))
    }

    @Test func anAssetOfAnotherVersionOrNameIsNotFound() throws {
        let app = try application()
        #expect(get(app, "/docs/assets/0000000000000000/swagger-ui-bundle.js").status == .notFound)
        #expect(get(app, "/docs/assets/0000000000000000/README.md").status == .notFound)
    }

    @Test func theDocumentListsEveryDescribedRouteWithServersFromTheMountPoint() throws {
        let app = try application()
        for (mount, server) in [("", "/"), ("/users-svc", "/users-svc")] {
            let response = get(app, "/openapi.json", mountPath: mount)
            #expect(response.status == .ok && response.header("Content-Type") == "application/json")
            let document = try JSONParser.parse(response.body)
            #expect(document["openapi"] == "3.1.0")
            #expect(document["servers"] == .array([.object([("url", .string(server))])]))
            var operationIDs: Set<String> = []
            let described = Routes.table.filter(\.tag.isDescribed)
            for route in described {
                let operation = document["paths"]?[route.path]?[route.method.rawValue.lowercased()]
                #expect(operation?["responses"]?[String(route.status.code)] != nil, "\(route.method) \(route.path)")
                if case .string(let id)? = operation?["operationId"] { operationIDs.insert(id) }
            }
            #expect(operationIDs.count == described.count)
            // The document and its pages are not described, as in FastAPI.
            #expect(document["paths"]?["/docs"] == nil && document["paths"]?["/openapi.json"] == nil)
            let revoke = document["paths"]?["/api/v1/auth/sessions/{session_id}"]?["delete"]?["parameters"]
            #expect(revoke == .array([.object([("name", "session_id"), ("in", "path"), ("required", true),
                                               ("schema", .object([("type", "string")]))])]))
            #expect(document["paths"]?["/api/v1/auth/me"]?["get"]?["security"] == .array([.object([("HTTPBearer", .array([]))])]))
            #expect(document["paths"]?["/health"]?["get"]?["security"] == nil)
        }
    }

    @Test func disabledMeansNotFoundEverywhere() throws {
        let app = try application(["DOCS_ENABLED": "false", "DOCS_DIR": "/nonexistent"])
        for path in ["/docs", "/redoc", "/openapi.json", "/docs/assets/0000000000000000/swagger-init.js"] {
            let response = get(app, path)
            #expect(response.status == .notFound && text(response) == #"{"detail":"Not Found"}"#, "\(path)")
        }
    }

    @Test func enabledWithoutTheAssetsRefusesToStart() {
        #expect(throws: ConfigurationError(variable: "DOCS_DIR", problem: "has no readable swagger-ui-bundle.js (or set DOCS_ENABLED=false)")) {
            _ = try application(["DOCS_DIR": "/nonexistent"])
        }
    }
}

func shippedDocsPath(file: String = #filePath) -> String {
    var parts = file.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/docs/ui"
}
