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
