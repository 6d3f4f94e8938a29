import HTTP
import Testing
@testable import UserService

/// `GET /events`: the security events that the handlers record, counted in `/metrics` and listed to their user.
@Suite struct AuthEventsTests {
    @Test func eventsAreRecordedCountedAndListedNewestFirst() throws {
        let service = try TestService()
        let secret = "Evt9Zsecret1"
        let user = try service.register(password: secret)
        #expect(service.loginResponse(user.email, "WrongPass123").status == .unauthorized)
        var tokens = try service.login(user.email, secret, userAgent: "EventsTest/1")
        let other = try service.login(user.email, secret)
        #expect(service.request("DELETE", "/api/v1/auth/sessions/\(try service.sessionID(other))", token: tokens.access).status == .ok)
        #expect(service.changePassword(tokens, current: secret, new: "Changed" + secret).status == .ok)
        #expect(service.request("POST", "/api/v1/auth/logout", token: tokens.access).status == .ok)
        tokens = try service.login(user.email, "Changed" + secret)

        let page = service.request("GET", "/api/v1/auth/events", token: tokens.access)
        #expect(page.status == .ok)
        let items = try #require(page.json?["items"]?.array)
        let types = items.compactMap { $0["type"]?.string }
        #expect(types == ["login_success", "logout", "password_change", "session_revoked", "login_success", "login_success",
                          "login_failure"])
        #expect(page.json?["total"] == 7 && page.json?["limit"] == 20 && page.json?["offset"] == 0)
        guard case .object(let members) = items[0] else { throw Failure("not an object: \(page.text)") }
        #expect(members.map(\.0) == ["id", "type", "ip_address", "user_agent", "created_at"])
        #expect(items[0]["ip_address"] == "192.0.2.10")  // the address the request came from
        #expect(items[5]["user_agent"] == "EventsTest/1")

        let second = service.request("GET", "/api/v1/auth/events", token: tokens.access, query: "limit=2&offset=2")
        #expect(second.json?["items"]?.array?.compactMap { $0["type"]?.string } == Array(types[2..<4]))
        #expect(second.json?["total"] == 7 && second.json?["limit"] == 2 && second.json?["offset"] == 2)
        let past = service.request("GET", "/api/v1/auth/events", token: tokens.access, query: "offset=7")
        #expect(past.json?["items"]?.array?.isEmpty == true && past.json?["total"] == 7)
        #expect(service.request("GET", "/api/v1/auth/events").status == .unauthorized)

        // Another user sees only their own.
        let (_, stranger) = try service.newUser()
        let theirs = service.request("GET", "/api/v1/auth/events", token: stranger.access)
        #expect(theirs.json?["items"]?.array?.compactMap { $0["type"]?.string } == ["login_success"])

        let metrics = service.metrics
        #expect(metrics.contains(#"user_service_security_events_total{type="login_success"} 4"#))
        #expect(metrics.contains(#"user_service_security_events_total{type="login_failure"} 1"#))
        #expect(metrics.contains(#"user_service_security_events_total{type="password_change"} 1"#))
        // Nothing secret is stored with them.
        let stored = try #require(try service.value("""
            SELECT string_agg(coalesce(ip_address, '') || coalesce(user_agent, '') || type, '|') FROM security_events
            """))
        #expect(!stored.contains(secret) && !stored.contains(tokens.refresh))
    }

    @Test func badQueryValuesAre422NamingTheParameter() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        for (query, name, type) in [("limit=0", "limit", "greater_than_equal"), ("limit=101", "limit", "less_than_equal"),
                                    ("limit=ten", "limit", "int_parsing"), ("offset=-1", "offset", "greater_than_equal")] {
            let response = service.request("GET", "/api/v1/auth/events", token: tokens.access, query: query)
            #expect(response.status == .unprocessableEntity, "\(query)")
            let issue = try #require(response.json?["detail"]?.array?.first)
            #expect(issue["loc"] == .array(["query", .string(name)]) && issue["type"]?.string == type, "\(query): \(response.text)")
        }
        let edges = service.request("GET", "/api/v1/auth/events", token: tokens.access, query: "limit=100&offset=0")
        #expect(edges.status == .ok && edges.json?["limit"] == 100)
    }
}
