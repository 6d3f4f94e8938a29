import HTTP
import Postgres
import Testing
@testable import UserService

/// `POST /api/v1/users/me/upgrade` and `/downgrade`, and premium's lapse at its expiry. Times are compared with the
/// database's own clock and interval arithmetic, never with absolute times; a lapse is made by moving
/// `premium_expires_at` into the past, never by waiting.
@Suite struct PremiumTests {
    static let upgradePath = "/api/v1/users/me/upgrade"
    static let downgradePath = "/api/v1/users/me/downgrade"

    func upgrade(_ service: TestService, _ tokens: TestService.Tokens, _ plan: String) -> TestResponse {
        service.request("POST", Self.upgradePath, json: .object([("plan", .string(plan))]), token: tokens.access)
    }

    func downgrade(_ service: TestService, _ tokens: TestService.Tokens) -> TestResponse {
        service.request("POST", Self.downgradePath, token: tokens.access)
    }

    /// The database's clock now, as text to hand back to it.
    func databaseNow(_ service: TestService) throws -> String { try #require(try service.value("SELECT now()::text")) }

    func expiry(_ service: TestService, _ user: TestService.User) throws -> String {
        try #require(try service.value("SELECT premium_expires_at::text FROM users WHERE id = $1", [user.id]))
    }

    /// Whether a premium-only route would let this token's caller in: the session loaded as every request loads it,
    /// then the route table's single check.
    func passesPremiumCheck(_ service: TestService, _ tokens: TestService.Tokens) throws -> Bool {
        let caller = try service.application.services.authenticator.authenticate(TestService.httpRequest("GET", "/", token: tokens.access))
        do {
            try Route.Access.premium.authorize(caller)
            return true
        } catch {
            #expect(error == APIError(.forbidden, "Premium subscription required"))
            return false
        }
    }

    @Test(arguments: [("monthly", "1 month"), ("yearly", "1 year")])
    func anUpgradeSetsThePlanAndItsExpiryFromNow(plan: String, interval: String) throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        #expect(try !passesPremiumCheck(service, tokens))
        let before = try databaseNow(service)
        let response = upgrade(service, tokens, plan)
        #expect(response.status == .ok, "\(response.text)")
        let answer = try #require(response.json)
        #expect(answer["id"]?.string == user.id && answer["is_premium"] == true && answer["premium_plan"]?.string == plan)
        // Between the request's start and end, plus the plan's calendar interval as PostgreSQL adds it.
        let shown = try #require(answer["premium_expires_at"]?.string)
        #expect(try service.value("""
            SELECT premium_expires_at BETWEEN $2::timestamptz + $3::interval AND now() + $3::interval
               AND premium_expires_at = $4::timestamptz AND premium_plan = $5
            FROM users WHERE id = $1
            """, [user.id, before, interval, shown, plan]) == "t")
        // Every answer shows it, and premium-only routes let the caller in from the next request.
        for path in ["/api/v1/auth/me", "/api/v1/users/me"] {
            let me = try #require(service.request("GET", path, token: tokens.access).json)
            #expect(me["is_premium"] == true && me["premium_plan"]?.string == plan && me["premium_expires_at"]?.string == shown)
        }
        #expect(try passesPremiumCheck(service, tokens))
        #expect(try service.eventTypes(user) == ["login_success", "premium_upgraded"])
        #expect(try service.value("SELECT ip_address || ' ' || user_agent FROM security_events WHERE user_id = $1 AND type = 'premium_upgraded'",
                                  [user.id]) == "192.0.2.10 AuthTests/1.0")
    }

    @Test func upgradingAPremiumAccountExtendsItFromItsCurrentExpiry() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        try service.database.query("UPDATE users SET premium_plan = 'monthly', premium_expires_at = now() + interval '10 days' WHERE id = $1",
                                   [user.id])
        let current = try expiry(service, user)
        let response = upgrade(service, tokens, "yearly")
        #expect(response.status == .ok && response.json?["premium_plan"]?.string == "yearly", "\(response.text)")
        #expect(try service.value("SELECT premium_expires_at = $2::timestamptz + interval '1 year' FROM users WHERE id = $1",
                                  [user.id, current]) == "t")
        // And again: each upgrade adds to what the last one left.
        let extended = try expiry(service, user)
        #expect(upgrade(service, tokens, "monthly").status == .ok)
        #expect(try service.value("SELECT premium_expires_at = $2::timestamptz + interval '1 month' AND premium_plan = 'monthly' FROM users WHERE id = $1",
                                  [user.id, extended]) == "t")
        #expect(try service.eventTypes(user) == ["login_success", "premium_upgraded", "premium_upgraded"])
    }

    @Test func aLapsedAccountUpgradesFromNowNotFromItsOldExpiry() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        try service.database.query("UPDATE users SET premium_plan = 'yearly', premium_expires_at = now() - interval '20 days' WHERE id = $1",
                                   [user.id])
        let before = try databaseNow(service)
        let response = upgrade(service, tokens, "monthly")
        #expect(response.status == .ok && response.json?["is_premium"] == true, "\(response.text)")
        #expect(try service.value("""
            SELECT premium_expires_at BETWEEN $2::timestamptz + interval '1 month' AND now() + interval '1 month' FROM users WHERE id = $1
            """, [user.id, before]) == "t")
    }

    /// Two upgrades at once both count: one statement reads the expiry under the row's lock. Both are made to wait for a
    /// lock the test holds on the user's row, so that a read-then-write would have both read the same expiry.
    @Test func concurrentUpgradesBothExtend() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        try service.database.query("UPDATE users SET premium_plan = 'monthly', premium_expires_at = now() + interval '3 days' WHERE id = $1",
                                   [user.id])
        let start = try expiry(service, user)
        try service.database.query("BEGIN")
        try service.database.query("SELECT id FROM users WHERE id = $1 FOR UPDATE", [user.id])
        let holder = try #require(try service.database.query("SELECT pg_backend_pid()").first?.int(0))
        let request = TestService.httpRequest("POST", Self.upgradePath, json: .object([("plan", "monthly")]), token: tokens.access)
        let workers = [try SecondWorker(service.configuration, request), try SecondWorker(service.configuration, request)]
        // Both waiting: one for the test's lock, the other for it or behind the first (the row's tuple lock).
        let deadline = Clock.nanoseconds() + 10_000_000_000
        while try service.count("""
            SELECT count(DISTINCT w.pid) FROM pg_locks w
            WHERE NOT w.granted AND ($1 = ANY(pg_blocking_pids(w.pid)) OR EXISTS (
                SELECT 1 FROM pg_locks f WHERE NOT f.granted AND $1 = ANY(pg_blocking_pids(f.pid)) AND f.pid = ANY(pg_blocking_pids(w.pid))))
            """, [holder]) < 2 {
            try #require(Clock.nanoseconds() < deadline, "the upgrades never both waited for the row")
        }
        try service.database.query("COMMIT")
        for worker in workers {
            let response = try worker.response()
            #expect(response.status == .ok, "\(response.text)")
        }
        #expect(try service.value("""
            SELECT premium_expires_at = ($2::timestamptz + interval '1 month') + interval '1 month' FROM users WHERE id = $1
            """, [user.id, start]) == "t")
        #expect(try service.count("SELECT count(*) FROM security_events WHERE user_id = $1 AND type = 'premium_upgraded'", [user.id]) == 2)
    }

    @Test func aDowngradeEndsPremiumAtOnce() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let other = try service.login(user.email)
        #expect(upgrade(service, tokens, "yearly").status == .ok)
        #expect(try passesPremiumCheck(service, other))
        let response = downgrade(service, tokens)
        #expect(response.status == .ok, "\(response.text)")
        let answer = try #require(response.json)
        #expect(answer["id"]?.string == user.id && answer["is_premium"] == false && answer["premium_plan"] == .null
                && answer["premium_expires_at"] == .null)
        // A basic account holds neither plan nor expiry; every session sees it from its next request.
        #expect(try service.value("SELECT coalesce(premium_plan, '') || coalesce(premium_expires_at::text, '') FROM users WHERE id = $1",
                                  [user.id]) == "")
        let me = try #require(service.me(other).json)
        #expect(me["is_premium"] == false && me["premium_plan"] == .null && me["premium_expires_at"] == .null)
        #expect(try !passesPremiumCheck(service, other))
        #expect(try service.eventTypes(user) == ["login_success", "login_success", "premium_upgraded", "premium_downgraded"])
        // Once more: it is basic now.
        #expect(downgrade(service, tokens).status == .conflict)
    }

    @Test func downgradingABasicAccountIsAConflict() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let response = downgrade(service, tokens)
        #expect(response.status == .conflict && response.text == #"{"detail":"Not a premium account"}"#, "\(response.text)")
        #expect(try service.eventTypes(user) == ["login_success"])
    }

    @Test func premiumLapsesAtItsExpiry() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        #expect(upgrade(service, tokens, "monthly").status == .ok)
        #expect(try passesPremiumCheck(service, tokens))
        // Moved past its expiry in the database: no job runs, and the next request sees a basic account.
        try service.database.query("UPDATE users SET premium_expires_at = now() - interval '1 second' WHERE id = $1", [user.id])
        for path in ["/api/v1/auth/me", "/api/v1/users/me"] {
            let me = try #require(service.request("GET", path, token: tokens.access).json)
            #expect(me["is_premium"] == false && me["premium_plan"] == .null && me["premium_expires_at"] == .null)
        }
        #expect(try !passesPremiumCheck(service, tokens))
        // Nothing left to end: a lapsed account downgrades as a basic one does.
        let response = downgrade(service, tokens)
        #expect(response.status == .conflict && response.detail == "Not a premium account")
        #expect(try service.eventTypes(user) == ["login_success", "premium_upgraded"])
    }

    @Test func thePlanIsRequiredAndOneOfTwo() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let unknown = try validationIssues(upgrade(service, tokens, "weekly"))
        #expect(unknown["body.plan enum"]?["ctx"]?["expected"]?.string == "'monthly' or 'yearly'")
        #expect(try validationIssues(service.request("POST", Self.upgradePath, json: .object([]), token: tokens.access))["body.plan missing"] != nil)
        #expect(try validationIssues(service.request("POST", Self.upgradePath, json: .object([("plan", 1)]), token: tokens.access))["body.plan enum"] != nil)
        #expect(try service.value("SELECT premium_plan FROM users WHERE id = $1", [user.id]) == nil)
        for path in [Self.upgradePath, Self.downgradePath] {
            let anonymous = service.request("POST", path, json: .object([("plan", "monthly")]))
            #expect(anonymous.status == .unauthorized && anonymous.header("WWW-Authenticate") == "Bearer")
        }
        #expect(try service.eventTypes(user) == ["login_success"])
    }

    @Test func bothRoutesAreDeclaredInTheTable() throws {
        for (path, errors) in [(Self.upgradePath, [401, 422]), (Self.downgradePath, [401, 409])] {
            let route = try #require(Routes.table.first { $0.method == .post && $0.path == path })
            #expect(route.tag == .users && route.access == .bearer && route.noStore && route.rateGroup == .general && route.workers == .main)
            let declared = Set(OpenAPIDocument.errorResponses(route).map(\.status.code))
            #expect(Set(errors).isSubset(of: declared), "\(path): \(declared.sorted())")
        }
    }
}
