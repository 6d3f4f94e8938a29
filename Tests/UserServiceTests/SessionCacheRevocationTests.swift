import HTTP
import Metrics
import Postgres
import Testing
@testable import UserService

/// The session cache through the `Application`, on the real PostgreSQL, with two workers of one pool (two
/// applications, each with its own connection, sharing the pool's shared memory). The lifetime is a minute, far
/// longer than a test, so no refusal below can come from an entry's age: each comes from a notification, the shared
/// generations or a lost connection. Every revocation made through the API holds on the very next request on either
/// worker, though both had the session cached.
@Suite struct SessionCacheRevocationTests {
    let service: TestService
    /// The second worker of the same pool.
    let other: Application
    var workers: [Application] { [service.application, other] }

    init() throws {
        service = try TestService(["SESSION_CACHE_SECONDS": "60"])
        other = try TestService.application(service.configuration, counters: service.application.services.metrics.counters)
    }

    func get(_ worker: Application, _ path: String, _ tokens: TestService.Tokens) -> TestResponse {
        TestResponse(worker.respond(to: TestService.httpRequest("GET", path, token: tokens.access)).response)
    }

    func generation(_ userID: String) -> UInt64 {
        let metrics = service.application.services.metrics
        return SessionGenerations(counters: metrics.counters, base: metrics.layout.sessionGenerationBase)
            .current(SessionGenerations.bucket(of: userID))
    }

    /// The server process of the worker's connection.
    func backend(_ worker: Application) throws -> Int {
        try #require(try worker.services.database.withConnection { try $0.query("SELECT pg_backend_pid()").first?.int(0) })
    }

    /// `GET /health` on the worker: its statement, `SELECT 1`, is the connection's last one now.
    func health(_ worker: Application) {
        #expect(worker.respond(to: TestService.httpRequest("GET", "/health")).response.status == .ok)
    }

    /// What a server process ran last, as PostgreSQL reports it.
    func lastStatement(_ backend: Int) throws -> String? {
        try service.value("SELECT query FROM pg_stat_activity WHERE pid = $1", [backend])
    }

    /// `path` answers 200 with `tokens` on both workers (each caches the session), `change` is made through the API on
    /// the first worker, and then `path` answers `status` on the second worker first, then on the first. The user's
    /// shared generation moved before the change's answer: the second worker's refusal does not wait for its
    /// notification.
    func expectNextRequestRefused(_ what: String, user: TestService.User, tokens: TestService.Tokens,
                                  path: String = "/api/v1/auth/me", status: HTTPStatus = .unauthorized,
                                  answered: HTTPStatus = .ok, change: () throws -> TestResponse) throws {
        for worker in workers { #expect(get(worker, path, tokens).status == .ok, "\(what): before") }
        let before = generation(user.id)
        let answer = try change()
        #expect(answer.status == answered, "\(what): \(answer.text)")
        #expect(generation(user.id) > before, "\(what): the shared generation did not move")
        for worker in workers.reversed() { #expect(get(worker, path, tokens).status == status, "\(what): after") }
    }

    /// What notifies: a login writes last_login and announces nothing (a notifying commit takes a cluster-wide
    /// lock); a deactivation announces its user, even made as a logical replica applies changes
    /// (`session_replication_role = replica`, which skips triggers not enabled ALWAYS).
    @Test func aLoginAnnouncesNothingAndADeactivationAnnouncesEvenAsAReplica() throws {
        let (user, _) = try service.newUser()
        let (deactivated, _) = try service.newUser()
        let listener = try PostgresConnection(ConnectionOptions(url: service.configuration.databaseURL))
        try listener.listen(SessionCache.channel)
        let before = try #require(try service.value("SELECT last_login FROM users WHERE id = $1", [user.id]))
        _ = try service.login(user.email)
        #expect(try service.value("SELECT last_login FROM users WHERE id = $1", [user.id]) != before)
        try service.database.transaction { connection in
            try connection.query("SET LOCAL session_replication_role = replica")
            try connection.query("UPDATE users SET is_active = false WHERE id = $1", [deactivated.id])
        }
        // Delivered in commit order: once the deactivation's has come, the login's would have come before it. (Other
        // tests' users notify on the same channel meanwhile.)
        var received: [String] = []
        let deadline = Clock.nanoseconds() + 20_000_000_000
        while !received.contains(deactivated.id) && Clock.nanoseconds() < deadline {
            try listener.receiveNotifications { if [user.id, deactivated.id].contains($0.payload) { received.append($0.payload) } }
        }
        #expect(received == [deactivated.id])
    }

    @Test func readsAreAnsweredFromTheCacheAndWritesAreNot() throws {
        let (_, tokens) = try service.newUser()
        let worker = service.application
        let pid = try backend(worker)
        #expect(get(worker, "/api/v1/auth/me", tokens).status == .ok)
        health(worker)
        // Answered without a statement: the connection's last one is still /health's.
        #expect(get(worker, "/api/v1/auth/me", tokens).status == .ok)
        #expect(get(worker, "/api/v1/users/me", tokens).status == .ok)
        #expect(try lastStatement(pid) == "SELECT 1")
        // A request that writes checks its session in the database (and `{}` writes nothing).
        #expect(service.request("PUT", "/api/v1/users/me", json: .object([]), token: tokens.access).status == .ok)
        #expect(try lastStatement(pid) != "SELECT 1")
        // Off (SESSION_CACHE_SECONDS=0): every read's check is a query.
        let uncached = try TestService.application(try Configuration.load(
            from: TestService.defaults.merging(["DATABASE_URL": service.configuration.databaseURL]) { $1 }, defaultWorkers: 1))
        let uncachedPID = try backend(uncached)
        #expect(get(uncached, "/api/v1/auth/me", tokens).status == .ok)
        health(uncached)
        #expect(get(uncached, "/api/v1/auth/me", tokens).status == .ok)
        #expect(try lastStatement(uncachedPID)?.contains("FROM user_sessions s JOIN users u") == true)
    }

    @Test func logoutLogoutAllAndRevokingOneSession() throws {
        let (user, tokens) = try service.newUser()
        try expectNextRequestRefused("logout", user: user, tokens: tokens) {
            service.request("POST", "/api/v1/auth/logout", token: tokens.access)
        }
        let (first, second) = (try service.login(user.email), try service.login(user.email))
        try expectNextRequestRefused("logout-all", user: user, tokens: first) {
            service.request("POST", "/api/v1/auth/logout-all", token: second.access)
        }
        let (third, fourth) = (try service.login(user.email), try service.login(user.email))
        let session = try service.sessionID(third)
        try expectNextRequestRefused("revoke one session", user: user, tokens: third) {
            service.request("DELETE", "/api/v1/auth/sessions/\(session)", token: fourth.access)
        }
        #expect(get(other, "/api/v1/auth/me", fourth).status == .ok)
    }

    @Test func passwordChangeResetAndRefreshTokenReuse() throws {
        let (user, tokens) = try service.newUser()
        let keeper = try service.login(user.email)
        try expectNextRequestRefused("change-password", user: user, tokens: tokens) {
            service.changePassword(keeper, current: TestService.password, new: "BrandNewPass456")
        }
        #expect(get(other, "/api/v1/auth/me", keeper).status == .ok)
        try expectNextRequestRefused("password reset", user: user, tokens: keeper) {
            service.requestReset(user.email)
            return service.confirmReset(try service.mailedToken(to: user.email, .passwordReset), "ResetAgain789")
        }
        let fresh = try service.login(user.email, "ResetAgain789")
        #expect(service.refresh(fresh.refresh).status == .ok)
        try service.shift("refresh_tokens", ["used_at"], by: 3600, where: "user_id = '\(user.id)'")
        // The replay is refused, and revokes the session as it answers.
        try expectNextRequestRefused("refresh-token reuse", user: user, tokens: fresh, answered: .unauthorized) {
            service.refresh(fresh.refresh)
        }
    }

    @Test func accountDeletionAndThePremiumChanges() throws {
        let (user, tokens) = try service.newUser()
        let search = "/api/v1/users/search"
        for worker in workers { #expect(get(worker, search, tokens).status == .forbidden) }
        let upgraded = service.request("POST", "/api/v1/users/me/upgrade", json: .object([("plan", "monthly")]), token: tokens.access)
        #expect(upgraded.status == .ok)
        for worker in workers.reversed() { #expect(get(worker, search, tokens).status == .ok) }  // granted: seen at once too
        try expectNextRequestRefused("downgrade", user: user, tokens: tokens, path: search, status: .forbidden) {
            service.request("POST", "/api/v1/users/me/downgrade", token: tokens.access)
        }
        // A change of the answer itself: the other worker's next /me shows it.
        #expect(service.request("PUT", "/api/v1/users/me", json: .object([("full_name", "Renamed")]), token: tokens.access).status == .ok)
        #expect(get(other, "/api/v1/users/me", tokens).json?["full_name"]?.string == "Renamed")
        try expectNextRequestRefused("account deletion", user: user, tokens: tokens) {
            service.request("DELETE", "/api/v1/users/me", json: .object([("password", .string(TestService.password))]), token: tokens.access)
        }
    }

    @Test func everyAdministratorsActionOnAnotherAccount() throws {
        let (admin, adminTokens) = try service.newUser()
        try service.database.query("UPDATE users SET is_admin = true WHERE id = $1", [admin.id])
        func act(_ method: String, _ id: String, _ action: String?, json: JSONValue? = nil) -> TestResponse {
            service.request(method, "/api/v1/admin/users/\(id)" + (action.map { "/\($0)" } ?? ""), json: json, token: adminTokens.access)
        }
        for action in ["deactivate", "revoke-sessions"] {
            let (user, tokens) = try service.newUser()
            try expectNextRequestRefused(action, user: user, tokens: tokens) { act("POST", user.id, action) }
        }
        let (deleted, deletedTokens) = try service.newUser()
        try expectNextRequestRefused("delete", user: deleted, tokens: deletedTokens) { act("DELETE", deleted.id, nil) }

        let (colleague, colleagueTokens) = try service.newUser()
        #expect(act("POST", colleague.id, "promote").status == .ok)
        try expectNextRequestRefused("demote", user: colleague, tokens: colleagueTokens, path: "/api/v1/admin/users", status: .forbidden) {
            act("POST", colleague.id, "demote")
        }
        let (member, memberTokens) = try service.newUser()
        #expect(act("PUT", member.id, "premium", json: .object([("plan", "yearly"), ("duration_days", 30)])).status == .ok)
        try expectNextRequestRefused("end premium", user: member, tokens: memberTokens, path: "/api/v1/users/search", status: .forbidden) {
            act("DELETE", member.id, "premium")
        }
    }

    /// By direct SQL (an operator, `user-service users`), a change holds once PostgreSQL has delivered its
    /// notification: polled, with a deadline.
    @Test func deactivationDemotionAndRevocationByDirectSQLOnceNotified() throws {
        func eventually(_ what: String, _ condition: () -> Bool) throws {
            let deadline = Clock.nanoseconds() + 20_000_000_000
            while !condition() { try #require(Clock.nanoseconds() < deadline, "\(what) never held") }
        }
        let (user, tokens) = try service.newUser()
        let (colleague, colleagueTokens) = try service.newUser()
        let (third, thirdTokens) = try service.newUser()
        try service.database.query("UPDATE users SET is_admin = true WHERE id = $1", [colleague.id])
        for worker in workers {
            #expect(get(worker, "/api/v1/auth/me", tokens).status == .ok)
            #expect(get(worker, "/api/v1/admin/users", colleagueTokens).status == .ok)
            #expect(get(worker, "/api/v1/auth/me", thirdTokens).status == .ok)
        }
        try service.database.query("UPDATE users SET is_active = false WHERE id = $1", [user.id])
        try service.database.query("UPDATE users SET is_admin = false WHERE id = $1", [colleague.id])
        try service.database.query("UPDATE user_sessions SET revoked_at = now() WHERE user_id = $1", [third.id])
        for worker in workers {
            try eventually("deactivation") { get(worker, "/api/v1/auth/me", tokens).status == .unauthorized }
            try eventually("demotion") { get(worker, "/api/v1/admin/users", colleagueTokens).status == .forbidden }
            try eventually("revocation") { get(worker, "/api/v1/auth/me", thirdTokens).status == .unauthorized }
        }
    }

    /// A worker whose connection the server ended cannot hear notifications: nothing it cached is used, a revoked
    /// session is refused (and while no connection can be made, nothing is answered from the cache), and caching
    /// resumes on the new connection.
    @Test func aLostConnectionEmptiesTheCacheUntilTheWorkerListensAgain() throws {
        let (user, tokens) = try service.newUser()
        let (_, keeper) = try service.newUser()
        let worker = service.application
        #expect(get(worker, "/api/v1/auth/me", tokens).status == .ok)
        #expect(get(worker, "/api/v1/auth/me", keeper).status == .ok)
        let pid = try backend(worker)
        #expect(try service.database.query("SELECT pg_terminate_backend($1, 10000)", [pid]).first?.bool(0) == true)
        // Revoked while the worker is not listening: no notification will ever reach it.
        try service.database.query("UPDATE user_sessions SET revoked_at = now() WHERE user_id = $1", [user.id])
        // The service's role may not log in for now: the worker cannot reconnect, and answers 503, never from its cache.
        try service.database.query("ALTER ROLE \(service.schema.name) NOLOGIN")
        #expect(get(worker, "/api/v1/auth/me", keeper).status == .serviceUnavailable)
        #expect(get(worker, "/api/v1/auth/me", tokens).status == .serviceUnavailable)
        try service.database.query("ALTER ROLE \(service.schema.name) LOGIN")
        #expect(get(worker, "/api/v1/auth/me", tokens).status == .unauthorized)
        #expect(get(worker, "/api/v1/auth/me", keeper).status == .ok)
        // Listening again: once the check has seen the new connection, reads are answered from the cache again.
        #expect(get(worker, "/api/v1/auth/me", keeper).status == .ok)
        let listening = try backend(worker)
        #expect(listening != pid)
        health(worker)
        #expect(get(worker, "/api/v1/auth/me", keeper).status == .ok)
        #expect(try lastStatement(listening) == "SELECT 1")
    }
}
