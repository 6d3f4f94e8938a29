import HTTP
import Postgres
import Testing
@testable import UserService

/// `DELETE /api/v1/users/me` through the `Application`, against the real PostgreSQL: the password checked again (and
/// throttled as a login), then the account and every row that names it gone in one transaction, one anonymised event
/// left, every token dead at once, the email and username free again.
@Suite struct UsersMeDeletionTests {
    func delete(_ service: TestService, _ tokens: TestService.Tokens, password: String = TestService.password) -> TestResponse {
        service.request("DELETE", "/api/v1/users/me", json: .object([("password", .string(password))]), token: tokens.access)
    }

    /// Rows naming the user in each table that can (by id, or by the email or username a throttle counter keys).
    func rowsNaming(_ service: TestService, _ user: TestService.User) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in ["user_sessions", "refresh_tokens", "security_events", "password_change_attempts"] {
            counts[table] = try service.count("SELECT count(*) FROM \(table) WHERE user_id = $1", [user.id])
        }
        counts["users"] = try service.count("SELECT count(*) FROM users WHERE id = $1 OR lower(email) = lower($2) OR lower(username) = lower($3)",
                                            [user.id, user.email, user.username])
        counts["login_throttle"] = try service.count("SELECT count(*) FROM login_throttle WHERE identifier IN (lower($1), lower($2))",
                                                     [user.email, user.username])
        return counts
    }

    @Test func aWrongPasswordIs400AndCountsAgainstTheLoginThrottle() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        for _ in 0..<3 {
            let wrong = delete(service, tokens, password: "WrongPass123")
            #expect(wrong.status == .badRequest && wrong.text == #"{"detail":"Incorrect password"}"#)
        }
        // The limit (3) is reached: the account's email is blocked for a login and for the deletion itself.
        let blocked = delete(service, tokens)
        #expect(blocked.status == .tooManyRequests && blocked.header("Retry-After") == "30")
        #expect(service.loginResponse(user.email).status == .tooManyRequests)
        #expect(try service.count("SELECT count(*) FROM users WHERE id = $1", [user.id]) == 1)
        #expect(service.me(tokens).status == .ok)
        #expect(try !service.eventTypes(user).isEmpty)
        // Missing or mistyped: a 422, nothing counted.
        let missing = service.request("DELETE", "/api/v1/users/me", json: .object([]), token: tokens.access)
        #expect(missing.status == .unprocessableEntity && missing.text.contains(#""loc":["body","password"]"#))
    }

    @Test func deletionRemovesEveryRowNamingTheUserAndEveryTokenAtOnce() throws {
        let service = try TestService()
        let user = try service.register()
        let devices = try (0..<3).map { _ in try service.login(user.email) }
        let rotated = try TestService.tokens(service.refresh(devices[1].refresh))
        #expect(service.changePassword(devices[2], current: "WrongPass123", new: "NewPass456").status == .badRequest)
        #expect(service.loginResponse(user.username, "WrongPass123").status == .unauthorized)  // a throttle row for the username
        #expect(service.request("PUT", "/api/v1/users/me", json: UsersMeTests.seedUpdate, token: devices[0].access).status == .ok)
        let before = try rowsNaming(service, user)
        #expect(before.values.allSatisfy { $0 > 0 }, "\(before)")
        let hash = try #require(try service.value("SELECT hashed_password FROM users WHERE id = $1", [user.id]))

        let response = delete(service, devices[0])
        #expect(response.status == .ok && response.text == #"{"message":"Account deleted"}"#)
        let after = try rowsNaming(service, user)
        #expect(after.values.allSatisfy { $0 == 0 }, "\(after)")
        // Every access and refresh token of every session, at once: the session check finds no user.
        for tokens in devices + [rotated] {
            #expect(service.me(tokens).status == .unauthorized)
            #expect(service.request("GET", "/api/v1/users/me", token: tokens.access).status == .unauthorized)
            #expect(service.refresh(tokens.refresh).status == .unauthorized)
        }
        #expect(service.loginResponse(user.email).status == .unauthorized)
        // One event left, naming nobody: no user, address or user agent, and nothing of the account in any column.
        let events = try service.database.query("SELECT user_id, ip_address, user_agent, row_to_json(e)::text FROM security_events e WHERE type = 'account_deleted'")
        #expect(events.rows.count == 1)
        let event = try #require(events.first)
        #expect(event.string(0) == nil && event.string(1) == nil && event.string(2) == nil)
        let text = try #require(event.string(3))
        for secret in [user.id, user.email, user.username, "Updated Name", "192.0.2.10", "AuthTests", hash] { #expect(!text.contains(secret)) }
        #expect(!response.text.contains(hash))
        #expect(service.metrics.contains(#"user_service_security_events_total{type="account_deleted"} 1"#))
        // The email and the username can be registered again.
        let again = service.request("POST", "/api/v1/auth/register", json: TestService.registration(email: user.email, username: user.username))
        #expect(again.status == .created && again.json?["id"]?.string != user.id)
        #expect(service.me(try service.login(user.username)).json?["current_title"] == .null)
    }

    /// A password change that commits while the deletion (its password already checked) waits for the user's row: the
    /// deletion claims the account only if the hash is still the one it checked, so it loses and answers 401.
    @Test func aDeletionLosesToAPasswordChangeCommittedMeanwhile() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let theirs = try service.application.services.hasher.hash("TheirNewPass789")
        try service.database.query("BEGIN")
        try service.database.query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", [user.id])
        let deletion = try SecondWorker(service.configuration, TestService.httpRequest(
            "DELETE", "/api/v1/users/me", json: .object([("password", .string(TestService.password))]), token: tokens.access))
        try service.waitForWaiter("the deletion")
        try service.database.query("UPDATE users SET hashed_password = $2 WHERE id = $1", [user.id, theirs])
        try service.database.query("COMMIT")
        let response = try deletion.response()
        #expect(response.status == .unauthorized && response.header("WWW-Authenticate") == "Bearer", "\(response.status.code) \(response.text)")
        #expect(try service.count("SELECT count(*) FROM users WHERE id = $1", [user.id]) == 1)
        #expect(try service.count("SELECT count(*) FROM security_events WHERE type = 'account_deleted'") == 0)
        #expect(service.loginResponse(user.email, "TheirNewPass789").status == .ok)
    }

    /// Without a competing change, the same wait ends in the deletion.
    @Test func aDeletionThatWaitedForTheRowStillDeletes() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        try service.database.query("BEGIN")
        try service.database.query("SELECT id FROM users WHERE id = $1 FOR SHARE", [user.id])
        let deletion = try SecondWorker(service.configuration, TestService.httpRequest(
            "DELETE", "/api/v1/users/me", json: .object([("password", .string(TestService.password))]), token: tokens.access))
        try service.waitForWaiter("the deletion")
        try service.database.query("COMMIT")
        #expect(try deletion.response().status == .ok)
        #expect(try service.count("SELECT count(*) FROM users WHERE id = $1", [user.id]) == 0)
    }

    /// A login whose password was checked while the account was being deleted: it opens no session and fails as a
    /// wrong password would — its failure event cannot name the account that is gone, and that is no 500.
    @Test func aLoginRacingTheDeletionFailsCleanly() throws {
        let service = try TestService()
        let user = try service.register()
        try service.database.query("BEGIN")
        try service.database.query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", [user.id])
        let login = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/auth/login", json: .object([("email", .string(user.email)), ("password", .string(TestService.password))])))
        try service.waitForWaiter("the login")
        try service.database.query("DELETE FROM users WHERE id = $1", [user.id])
        try service.database.query("COMMIT")
        let response = try login.response()
        #expect(response.status == .unauthorized)
        #expect(try service.count("SELECT count(*) FROM user_sessions") == 0)
    }
}
