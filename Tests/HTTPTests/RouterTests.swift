@testable import HTTP
import Testing

@Suite struct RouterTests {
    func router() -> Router {
        var router = Router()
        let ok: RouteHandler = { _ in HTTPResponse() }
        router.add(.get, "/", ok)
        router.add(.get, "/api/v1/auth/me", ok)
        router.add(.post, "/api/v1/auth/login", ok)
        router.add(.delete, "/api/v1/auth/sessions/{session_id}", ok)
        router.add(.get, "/api/v1/auth/sessions", ok)
        return router
    }

    @Test func matchesLiteralAndRoot() {
        guard case .found(let route, _) = router().match(method: "GET", path: "/api/v1/auth/me") else { Issue.record("no match"); return }
        #expect(route.template == "/api/v1/auth/me")
        guard case .found(let root, _) = router().match(method: "GET", path: "/") else { Issue.record("no root"); return }
        #expect(root.template == "/")
    }

    /// Paths are compared as bytes, as nginx's maps see them: a "/" with a combining mark after it is not a
    /// separator (one Swift character), and a lookalike is not the letter it looks like.
    @Test func pathsAreComparedAsBytesNotCharacters() {
        for path in ["/\u{301}/api/v1/auth/me", "/api/v1/auth/\u{212A}me", "/api/v1/auth/me\u{301}", "/api/v1/auth/mé"] {
            guard case .notFound = router().match(method: "GET", path: path) else { Issue.record("matched \(path.unicodeScalars.map(\.value))"); continue }
        }
        guard case .found(_, let parameters) = router().match(method: "DELETE", path: "/api/v1/auth/sessions/e\u{301}") else {
            Issue.record("no match"); return
        }
        #expect(parameters["session_id"]?.unicodeScalars.count == 2)
    }

    @Test func bindsParameters() {
        guard case .found(let route, let parameters) = router().match(method: "DELETE", path: "/api/v1/auth/sessions/abc-123") else {
            Issue.record("no match"); return
        }
        #expect(route.template == "/api/v1/auth/sessions/{session_id}")
        #expect(parameters == ["session_id": "abc-123"])
    }

    @Test func unknownPathIsNotFound() {
        for path in ["/api/v1/auth/nope", "/api/v1/auth/me/", "/api/v1/auth/sessions/", "//", "/api/v1/auth/sessions/a/b"] {
            guard case .notFound = router().match(method: "GET", path: path) else { Issue.record("\(path) matched"); continue }
        }
    }

    @Test func wrongMethodListsAllowed() {
        guard case .methodNotAllowed(let allowed) = router().match(method: "GET", path: "/api/v1/auth/login") else {
            Issue.record("expected 405"); return
        }
        #expect(allowed == [.post])
        guard case .methodNotAllowed(let other) = router().match(method: "PUT", path: "/api/v1/auth/sessions/x") else {
            Issue.record("expected 405"); return
        }
        #expect(other == [.delete])
    }
}
