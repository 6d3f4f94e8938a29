import HTTP
import Postgres
import Testing
@testable import UserService

/// `/api/v1/admin/users` through the `Application`, against the real PostgreSQL: administrators only (checked on
/// every request against the row loaded with the session), each action's immediate effect on the user's sessions and
/// answers, its event naming the administrator, the list's filters and pages, and the last-administrator rule —
/// through this API and `DELETE /users/me`, and under a race of two administrators demoting each other.
@Suite struct AdminTests {
    static let lastAdministrator = #"{"detail":"The last active administrator cannot be deactivated, demoted or deleted"}"#

    /// A new account made an administrator in the database, and its login.
    func newAdmin(_ service: TestService) throws -> (TestService.User, TestService.Tokens) {
        let (user, tokens) = try service.newUser()
        try service.database.query("UPDATE users SET is_admin = true WHERE id = $1", [user.id])
        return (user, tokens)
    }

    func act(_ service: TestService, _ tokens: TestService.Tokens, _ method: String, _ id: String, _ action: String? = nil,
             json: JSONValue? = nil) -> TestResponse {
        service.request(method, "/api/v1/admin/users/\(id)" + (action.map { "/\($0)" } ?? ""), json: json, token: tokens.access)
    }

    /// `POST /api/v1/admin/users/{id}/{action}`.
    func post(_ service: TestService, _ tokens: TestService.Tokens, _ id: String, _ action: String) -> TestResponse {
        act(service, tokens, "POST", id, action)
    }

    /// The user's events as (type, actor) pairs, oldest first.
    func events(_ service: TestService, _ user: TestService.User) throws -> [String] {
        try service.database.query("SELECT type, coalesce(actor_id::text, '-') FROM security_events WHERE user_id = $1 ORDER BY id",
                                   [user.id]).rows.map { "\(try $0.requiredString(0)) by \(try $0.requiredString(1))" }
    }

    func activeAdministrators(_ service: TestService) throws -> Int {
        try service.count("SELECT count(*) FROM users WHERE is_admin AND is_active")
    }

    @Test func nonAdministratorsAreRefusedAndADemotionHoldsFromTheNextRequest() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let (admin, adminTokens) = try newAdmin(service)
        let (_, otherTokens) = try newAdmin(service)
        for (method, action) in [("GET", nil), ("POST", "activate"), ("POST", "deactivate"), ("POST", "promote"), ("DELETE", nil)] as [(String, String?)] {
            let refused = act(service, tokens, method, admin.id, action)
            #expect(refused.status == .forbidden && refused.text == #"{"detail":"Administrator privileges required"}"#, "\(method) \(action ?? "")")
        }
        let list = service.request("GET", "/api/v1/admin/users", token: tokens.access)
        #expect(list.status == .forbidden)
        // Every administration route is for administrators, and nginx marks its answers no-store.
        let routes = Routes.table.filter { $0.path.hasPrefix("/api/v1/admin/") }
        #expect(routes.count == 12 && routes.allSatisfy { $0.access == .admin && $0.noStore && $0.tag == .admin })
        #expect(service.request("GET", "/api/v1/admin/users").status == .unauthorized)
        #expect(try service.count("SELECT count(*) FROM users WHERE is_admin") == 2)  // nothing was promoted or deleted
        #expect(service.request("GET", "/api/v1/admin/users", token: adminTokens.access).status == .ok)
        // Demoted by another administrator: the very next request with the same token is refused.
        let demoted = post(service, otherTokens, admin.id, "demote")
        #expect(demoted.status == .ok && demoted.json?["is_admin"] == false)
        #expect(service.request("GET", "/api/v1/admin/users", token: adminTokens.access).status == .forbidden)
        #expect(act(service, adminTokens, "GET", user.id).status == .forbidden)
        // Demoted in the database as well (the command line's way): no token claim keeps the role.
        try service.database.query("UPDATE users SET is_admin = true WHERE id = $1", [user.id])
        #expect(service.request("GET", "/api/v1/admin/users", token: tokens.access).status == .ok)
        try service.database.query("UPDATE users SET is_admin = false WHERE id = $1", [user.id])
        #expect(service.request("GET", "/api/v1/admin/users", token: tokens.access).status == .forbidden)
    }

    @Test func aUserIDThatIsNotAUUIDIs422AndAnUnknownOne404() throws {
        let service = try TestService()
        let (_, tokens) = try newAdmin(service)
        let unknown = "00000000-0000-4000-8000-000000000000"
        for (method, action) in [("GET", nil), ("DELETE", nil), ("POST", "activate"), ("POST", "deactivate"), ("POST", "verify"),
                                 ("POST", "unverify"), ("POST", "revoke-sessions"), ("POST", "promote"), ("POST", "demote"),
                                 ("DELETE", "premium")] as [(String, String?)] {
            let invalid = act(service, tokens, method, "not-a-uuid", action)
            #expect(invalid.status == .unprocessableEntity, "\(method) \(action ?? "")")
            #expect(invalid.json?["detail"]?.array?.first?["loc"] == .array(["path", "user_id"]))
            #expect(invalid.json?["detail"]?.array?.first?["type"] == "uuid_parsing")
            let missing = act(service, tokens, method, unknown, action)
            #expect(missing.status == .notFound && missing.text == #"{"detail":"User not found"}"#, "\(method) \(action ?? "")")
        }
        let premium = act(service, tokens, "PUT", unknown, "premium", json: .object([("plan", "monthly")]))
        #expect(premium.status == .notFound)
    }

    @Test func deactivationRevokesEverySessionAtOnce() throws {
        let service = try TestService()
        let (admin, adminTokens) = try newAdmin(service)
        let user = try service.register()
        let devices = try (0..<2).map { _ in try service.login(user.email) }
        let response = post(service, adminTokens, user.id, "deactivate")
        #expect(response.status == .ok && response.json?["is_active"] == false && response.json?["id"]?.string == user.id)
        // The user's next request fails, with every token it holds, and the sessions stay revoked after reactivation.
        for tokens in devices {
            #expect(service.me(tokens).status == .unauthorized)
            #expect(service.refresh(tokens.refresh).status == .unauthorized)
        }
        #expect(try service.count("SELECT count(*) FROM user_sessions WHERE user_id = $1 AND revoked_at IS NULL", [user.id]) == 0)
        #expect(try service.count("SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL AND used_at IS NULL", [user.id]) == 0)
        #expect(service.loginResponse(user.email).status == .forbidden)
        // Repeated: the same answer, nothing more recorded.
        #expect(post(service, adminTokens, user.id, "deactivate").status == .ok)
        let activated = post(service, adminTokens, user.id, "activate")
        #expect(activated.status == .ok && activated.json?["is_active"] == true)
        for tokens in devices { #expect(service.me(tokens).status == .unauthorized) }
        #expect(service.me(try service.login(user.email)).status == .ok)
        #expect(try events(service, user).filter { $0.hasPrefix("admin_") } == ["admin_deactivated by \(admin.id)", "admin_activated by \(admin.id)"])
        #expect(service.metrics.contains(#"user_service_security_events_total{type="admin_deactivated"} 1"#))
    }

    @Test func revokingSessionsEndsEveryTokenOfTheUserOnly() throws {
        let service = try TestService()
        let (admin, adminTokens) = try newAdmin(service)
        let user = try service.register()
        let devices = try (0..<2).map { _ in try service.login(user.email) }
        let (_, bystander) = try service.newUser()
        let response = post(service, adminTokens, user.id, "revoke-sessions")
        #expect(response.status == .ok && response.text == #"{"user_id":"\#(user.id)","sessions_revoked":2}"#)
        for tokens in devices {
            #expect(service.me(tokens).status == .unauthorized)
            #expect(service.refresh(tokens.refresh).status == .unauthorized)
        }
        #expect(service.me(bystander).status == .ok && service.me(adminTokens).status == .ok)
        #expect(try events(service, user).last == "admin_sessions_revoked by \(admin.id)")
        #expect(post(service, adminTokens, user.id, "revoke-sessions").json?["sessions_revoked"] == 0)
        // The account itself is untouched: a new login works.
        #expect(service.me(try service.login(user.email)).status == .ok)
    }

    @Test func verificationAndPremiumShowInTheUsersOwnAnswers() throws {
        let service = try TestService()
        let (admin, adminTokens) = try newAdmin(service)
        let (user, tokens) = try service.newUser()
        #expect(post(service, adminTokens, user.id, "verify").json?["is_verified"] == true)
        #expect(service.me(tokens).json?["is_verified"] == true)
        #expect(post(service, adminTokens, user.id, "unverify").json?["is_verified"] == false)
        #expect(service.me(tokens).json?["is_verified"] == false)

        let granted = act(service, adminTokens, "PUT", user.id, "premium", json: .object([("plan", "yearly"), ("duration_days", 30)]))
        #expect(granted.status == .ok && granted.json?["is_premium"] == true && granted.json?["premium_plan"] == "yearly")
        var me = try #require(service.me(tokens).json)
        #expect(me["is_premium"] == true && me["premium_plan"] == "yearly")
        #expect(try service.count("SELECT count(*) FROM users WHERE id = $1 AND premium_expires_at BETWEEN now() + interval '29 days' AND now() + interval '31 days'",
                                  [user.id]) == 1)
        let until = act(service, adminTokens, "PUT", user.id, "premium", json: .object([("plan", "monthly"), ("expires_at", "2999-01-31T12:00:00+02:00")]))
        #expect(until.status == .ok && until.json?["premium_expires_at"]?.string?.hasPrefix("2999-01-31T10:00:00") == true)
        let byPlan = act(service, adminTokens, "PUT", user.id, "premium", json: .object([("plan", "monthly")]))
        #expect(byPlan.status == .ok)
        #expect(try service.count("SELECT count(*) FROM users WHERE id = $1 AND premium_expires_at BETWEEN now() + interval '27 days' AND now() + interval '32 days'",
                                  [user.id]) == 1)
        let ended = act(service, adminTokens, "DELETE", user.id, "premium")
        #expect(ended.status == .ok && ended.json?["is_premium"] == false && ended.json?["premium_plan"] == .null)
        me = try #require(service.me(tokens).json)
        #expect(me["is_premium"] == false && me["premium_expires_at"] == .null)
        let again = act(service, adminTokens, "DELETE", user.id, "premium")
        #expect(again.status == .conflict && again.text == #"{"detail":"User has no premium subscription"}"#)

        // Bodies that are refused, each naming its field.
        for (body, field) in [(JSONValue.object([("plan", "weekly")]), "plan"),
                              (.object([("plan", "monthly"), ("expires_at", "2001-01-01")]), "expires_at"),
                              (.object([("plan", "monthly"), ("expires_at", "tomorrow")]), "expires_at"),
                              (.object([("plan", "monthly"), ("duration_days", 0)]), "duration_days"),
                              (.object([("plan", "monthly"), ("duration_days", 5), ("expires_at", "2999-01-01")]), "expires_at")] {
            let refused = act(service, adminTokens, "PUT", user.id, "premium", json: body)
            #expect(refused.status == .unprocessableEntity && refused.json?["detail"]?.array?.first?["loc"] == .array(["body", .string(field)]),
                    "\(refused.text)")
        }
        #expect(try events(service, user).filter { $0.hasPrefix("admin_") } == [
            "admin_verified", "admin_unverified", "admin_premium_granted", "admin_premium_granted", "admin_premium_granted", "admin_premium_ended",
        ].map { "\($0) by \(admin.id)" })
    }

    @Test func oneUserWithProfileSessionsAndRecentEvents() throws {
        let service = try TestService()
        let (admin, adminTokens) = try newAdmin(service)
        let (user, tokens) = try service.newUser()
        #expect(service.request("PUT", "/api/v1/users/me/profile", json: .object([("headline", "Engineer")]), token: tokens.access).status == .ok)
        #expect(post(service, adminTokens, user.id, "verify").status == .ok)
        let response = act(service, adminTokens, "GET", user.id)
        #expect(response.status == .ok)
        let detail = try #require(response.json)
        #expect(detail["user"]?["id"]?.string == user.id && detail["user"]?["is_admin"] == false && detail["user"]?["is_verified"] == true)
        #expect(detail["profile"]?["headline"] == "Engineer")
        let sessionID = try service.sessionID(tokens)
        #expect(detail["sessions"]?.array?.count == 1 && detail["sessions"]?.array?.first?["id"]?.string == sessionID)
        let recent = try #require(detail["recent_events"]?.array)
        #expect(recent.first?["type"] == "admin_verified" && recent.first?["actor_id"]?.string == admin.id)
        #expect(recent.last?["type"] == "login_success" && recent.last?["actor_id"] == .null)
        #expect(!response.text.contains("hashed_password") && !response.text.contains("$2b$"))
    }

    @Test func theListFiltersAndPages() throws {
        let service = try TestService()
        let (admin, adminTokens) = try newAdmin(service)
        let verified = try service.register(), inactive = try service.register(), premium = try service.register()
        try service.database.query("UPDATE users SET is_verified = true, full_name = 'Ada 100%_Lovelace' WHERE id = $1", [verified.id])
        try service.database.query("UPDATE users SET is_active = false WHERE id = $1", [inactive.id])
        try service.database.query("UPDATE users SET premium_plan = 'monthly', premium_expires_at = now() + interval '1 day' WHERE id = $1", [premium.id])
        try service.database.query("UPDATE users SET created_at = '2020-06-01T00:00:00Z' WHERE id = $1", [verified.id])
        func ids(_ query: String) throws -> [String] {
            let response = service.request("GET", "/api/v1/admin/users", token: adminTokens.access, query: query)
            try #require(response.status == .ok, "\(query): \(response.text)")
            return try #require(response.json?["items"]?.array).compactMap { $0["id"]?.string }
        }
        // Newest first; the verified user was created "in 2020".
        #expect(try Set(ids("")) == Set([admin.id, verified.id, inactive.id, premium.id]))
        #expect(try ids("").last == verified.id)
        #expect(try ids("active=false") == [inactive.id])
        #expect(try Set(ids("active=true")) == Set([admin.id, verified.id, premium.id]))
        #expect(try ids("verified=true") == [verified.id])
        #expect(try ids("premium=1") == [premium.id])
        #expect(try ids("admin=true") == [admin.id])
        #expect(try ids("created_before=2021-01-01") == [verified.id])
        #expect(try ids("created_after=2020-06-01T00:00:00Z&created_before=2020-06-01T00:00:01Z") == [verified.id])
        #expect(try Set(ids("created_after=2021-01-01T00:00:00%2B02:00")) == Set([admin.id, inactive.id, premium.id]))
        #expect(try ids("q=" + String(inactive.username.dropFirst(2)).uppercased()) == [inactive.id])
        #expect(try ids("q=\(premium.email)") == [premium.id])
        #expect(try ids("q=100%25_lov") == [verified.id])
        #expect(try ids("q=%25") == [verified.id])  // "%" is a character, not a wildcard
        #expect(try ids("active=true&verified=false&premium=false") == [admin.id])

        let first = try #require(service.request("GET", "/api/v1/admin/users", token: adminTokens.access, query: "limit=3").json)
        #expect(first["total"] == 4 && first["limit"] == 3 && first["offset"] == 0 && first["items"]?.array?.count == 3)
        let second = try #require(service.request("GET", "/api/v1/admin/users", token: adminTokens.access, query: "limit=3&offset=3").json)
        #expect(second["total"] == 4 && second["offset"] == 3 && second["items"]?.array?.first?["id"]?.string == verified.id)
        let beyond = try #require(service.request("GET", "/api/v1/admin/users", token: adminTokens.access, query: "offset=10").json)
        #expect(beyond["total"] == 4 && beyond["items"]?.array?.isEmpty == true)
        #expect(try #require(service.request("GET", "/api/v1/admin/users", token: adminTokens.access, query: "active=false").json)["total"] == 1)

        for (query, name) in [("active=maybe", "active"), ("created_after=2020-13-01", "created_after"), ("created_before=yesterday", "created_before"),
                              ("limit=0", "limit"), ("q=" + String(repeating: "a", count: 255), "q")] {
            let refused = service.request("GET", "/api/v1/admin/users", token: adminTokens.access, query: query)
            #expect(refused.status == .unprocessableEntity && refused.json?["detail"]?.array?.first?["loc"] == .array(["query", .string(name)]),
                    "\(query): \(refused.text)")
        }
    }

    @Test func anAdministratorDeletesAnAccountAndTheEventNamesOnlyTheActor() throws {
        let service = try TestService()
        let (admin, adminTokens) = try newAdmin(service)
        let (user, tokens) = try service.newUser()
        let response = act(service, adminTokens, "DELETE", user.id)
        #expect(response.status == .ok && response.text == #"{"message":"User deleted"}"#)
        #expect(try service.count("SELECT count(*) FROM users WHERE id = $1", [user.id]) == 0)
        #expect(try service.count("SELECT count(*) FROM user_sessions WHERE user_id = $1", [user.id]) == 0)
        #expect(service.me(tokens).status == .unauthorized && service.refresh(tokens.refresh).status == .unauthorized)
        let event = try #require(try service.database.query("""
            SELECT user_id, actor_id::text, ip_address, user_agent FROM security_events WHERE type = 'admin_deleted'
            """).first)
        #expect(event.string(0) == nil && event.string(1) == admin.id && event.string(2) == nil && event.string(3) == nil)
        #expect(act(service, adminTokens, "DELETE", user.id).status == .notFound)
        // The email is free again.
        #expect(service.request("POST", "/api/v1/auth/register", json: TestService.registration(email: user.email, username: user.username)).status == .created)
    }

    @Test func theLastActiveAdministratorCannotBeDeactivatedDemotedOrDeleted() throws {
        let service = try TestService()
        let (admin, adminTokens) = try newAdmin(service)
        // An inactive administrator does not count.
        let dormant = try service.register()
        try service.database.query("UPDATE users SET is_admin = true, is_active = false WHERE id = $1", [dormant.id])
        for (method, action) in [("POST", "deactivate"), ("POST", "demote"), ("DELETE", nil)] as [(String, String?)] {
            let refused = act(service, adminTokens, method, admin.id, action)
            #expect(refused.status == .conflict && refused.text == Self.lastAdministrator, "\(method) \(action ?? "")")
        }
        let deleteMe = service.request("DELETE", "/api/v1/users/me", json: .object([("password", .string(TestService.password))]), token: adminTokens.access)
        #expect(deleteMe.status == .conflict && deleteMe.text == Self.lastAdministrator)
        #expect(try activeAdministrators(service) == 1 && service.me(adminTokens).status == .ok)
        #expect(try events(service, admin).allSatisfy { !$0.hasPrefix("admin_") })
        // The dormant one may go: demoting or deleting an inactive administrator leaves the active one.
        #expect(post(service, adminTokens, dormant.id, "demote").status == .ok)

        // With a second administrator (promoted through the API) the first may step down, and then the second is the last.
        let (second, secondTokens) = try service.newUser()
        let promoted = post(service, adminTokens, second.id, "promote")
        #expect(promoted.status == .ok && promoted.json?["is_admin"] == true)
        #expect(try events(service, second).last == "admin_promoted by \(admin.id)")
        #expect(post(service, adminTokens, admin.id, "demote").status == .ok)
        #expect(post(service, secondTokens, second.id, "demote").text == Self.lastAdministrator)
        #expect(post(service, secondTokens, second.id, "deactivate").text == Self.lastAdministrator)
        #expect(act(service, secondTokens, "DELETE", second.id).text == Self.lastAdministrator)
        // Promoted again, the first may delete their own account through DELETE /users/me.
        #expect(post(service, secondTokens, admin.id, "promote").status == .ok)
        let gone = service.request("DELETE", "/api/v1/users/me", json: .object([("password", .string(TestService.password))]), token: adminTokens.access)
        #expect(gone.status == .ok)
        #expect(try activeAdministrators(service) == 1)
        // A user who is no administrator deletes their account as before.
        let (_, plain) = try service.newUser()
        #expect(service.request("DELETE", "/api/v1/users/me", json: .object([("password", .string(TestService.password))]), token: plain.access).status == .ok)
    }

    /// Two administrators demote each other at once, each on its own connection (two workers). The test holds the
    /// first administrator's row so that both demotions are waiting before either starts: the first to get the
    /// administrators' locks demotes the other, and the second — finding itself the last — answers 409.
    @Test func twoAdministratorsDemotingEachOtherAtOnceLeaveOneAndTheDemotedOneNoLongerActs() throws {
        let service = try TestService()
        let (first, firstTokens) = try newAdmin(service)
        let (second, secondTokens) = try newAdmin(service)
        let lowest = min(first.id, second.id)
        try service.database.query("BEGIN")
        try service.database.query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", [lowest])
        let holder = try #require(try service.database.query("SELECT pg_backend_pid()").first?.int(0))
        let deadline = Clock.nanoseconds() + 10_000_000_000
        let one = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/admin/users/\(second.id)/demote", token: firstTokens.access))
        var waiting: Int?
        while waiting == nil {
            waiting = try service.database.query("SELECT pid FROM pg_locks WHERE NOT granted AND $1 = ANY(pg_blocking_pids(pid))", [holder]).first?.int(0)
            try #require(Clock.nanoseconds() < deadline, "the first demotion never waited for the administrators' rows")
        }
        let other = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/admin/users/\(first.id)/demote", token: secondTokens.access))
        while try service.count("""
            SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> $2
              AND ($1 = ANY(pg_blocking_pids(pid)) OR $2 = ANY(pg_blocking_pids(pid)))
            """, [holder, waiting]) == 0 {
            try #require(Clock.nanoseconds() < deadline, "the second demotion never waited")
        }
        try service.database.query("COMMIT")
        let answers = [try one.response(), try other.response()]
        // The loser's administrator passed the session check, then was demoted while it waited: it no longer acts.
        #expect(answers.map(\.status.code).sorted() == [200, 403], "\(answers.map(\.text))")
        #expect(answers.contains { $0.detail == "Administrator privileges required" })
        #expect(try activeAdministrators(service) == 1)
        #expect(try service.count("SELECT count(*) FROM security_events WHERE type = 'admin_demoted'") == 1)
    }

    /// The text filter's wildcards are escaped per code point, as PostgreSQL reads the pattern.
    @Test func likeWildcardsAreEscapedAsCodePoints() {
        #expect(AdminRepository.escapeLike("50%_a\\") == "50\\%\\_a\\\\")
        #expect(AdminRepository.escapeLike("%\u{301}") == "\\%\u{301}")
    }
}
