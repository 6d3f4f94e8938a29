import HTTP
import Postgres
import Testing
@testable import UserService

/// Refresh-token rotation and reuse, and every way a session ends (logout, logout-all, revoking one, deactivation),
/// through the `Application` against the real PostgreSQL. A revocation must take effect on the very next request.
@Suite struct AuthSessionTests {
    static let invalidRefreshToken = #"{"detail":"Invalid refresh token"}"#

    @Test func refreshRotatesAndTheOldTokenIsRefusedAfterUse() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let rotated = try TestService.tokens(service.refresh(tokens.refresh))
        #expect(rotated.refresh != tokens.refresh)
        #expect(service.me(rotated).json?["id"]?.string == user.id)
        #expect(try service.sessionID(rotated) == service.sessionID(tokens))  // the same session
        let again = service.refresh(tokens.refresh)
        #expect(again.status == .unauthorized && again.text == Self.invalidRefreshToken)
        #expect(service.refresh("made-up-token").status == .unauthorized)
        #expect(service.refresh(rotated.refresh).status == .ok)
        // Stored only as SHA-256: the used token's row is marked, and no row holds a token itself.
        #expect(try service.count("""
            SELECT count(*) FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')) AND used_at IS NOT NULL
            """, [tokens.refresh]) == 1)
        #expect(try service.count("SELECT count(*) FROM refresh_tokens WHERE position(convert_to($1, 'UTF8') IN token_hash) > 0",
                                  [rotated.refresh]) == 0)
        // A replay within the grace window (two tabs racing) is refused and nothing more.
        #expect(try service.value("SELECT revoked_at FROM user_sessions WHERE id = $1", [service.sessionID(tokens)]) == nil)
        #expect(try !service.eventTypes(user).contains("refresh_token_reuse"))
    }

    /// A rotation in progress on another connection holds the token's row: the second waits for it, then finds
    /// the token used and loses, without issuing a token or revoking anything (it is within the grace window).
    @Test func twoRotationsOfOneTokenCannotBothWin() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        let session = try service.sessionID(tokens)
        try service.database.query("BEGIN")
        try service.database.query("UPDATE refresh_tokens SET used_at = now() WHERE session_id = $1 AND used_at IS NULL", [session])
        let second = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/auth/refresh", json: .object([("refresh_token", .string(tokens.refresh))])))
        // pg_locks, not pg_stat_activity: the latter is a snapshot taken once per transaction.
        try service.waitForWaiter("the second rotation")
        try service.database.query("COMMIT")
        let response = try second.response()
        #expect(response.status == .unauthorized && response.text == Self.invalidRefreshToken)
        #expect(try service.count("SELECT count(*) FROM refresh_tokens WHERE session_id = $1", [session]) == 1)
        #expect(try service.value("SELECT revoked_at FROM user_sessions WHERE id = $1", [session]) == nil)
    }

    @Test func aReusedRefreshTokenRevokesItsSessionPastTheGraceWindow() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let otherDevice = try service.login(user.email)
        let rotated = try TestService.tokens(service.refresh(tokens.refresh))
        #expect(service.refresh(tokens.refresh).status == .unauthorized)  // within the window: refused, nothing revoked
        #expect(service.me(rotated).status == .ok)
        try service.shift("refresh_tokens", ["used_at"], by: 121, where: "used_at IS NOT NULL")
        let replay = service.refresh(tokens.refresh)
        #expect(replay.status == .unauthorized && replay.text == Self.invalidRefreshToken)
        // Treated as theft: the session and all its tokens die at once.
        #expect(service.me(rotated).status == .unauthorized)
        #expect(service.refresh(rotated.refresh).status == .unauthorized)
        let session = try service.sessionID(tokens)
        #expect(try service.value("SELECT revoked_at FROM user_sessions WHERE id = $1", [session]) != nil)
        #expect(try service.count("SELECT count(*) FROM refresh_tokens WHERE session_id = $1 AND revoked_at IS NULL AND used_at IS NULL",
                                  [session]) == 0)
        #expect(try service.eventTypes(user).filter { $0 == "refresh_token_reuse" }.count == 1)
        #expect(service.metrics.contains(#"user_service_security_events_total{type="refresh_token_reuse"} 1"#))
        // The user's other sessions are untouched, and logging in again works.
        #expect(service.me(otherDevice).status == .ok)
        #expect(service.me(try service.login(user.email)).status == .ok)
    }

    @Test func logoutRevokesThisSessionImmediately() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let other = try service.login(user.email)
        let response = service.request("POST", "/api/v1/auth/logout", json: .object([("refresh_token", .string(tokens.refresh))]),
                                       token: tokens.access)
        #expect(response.status == .ok && response.text == #"{"message":"Successfully logged out"}"#)
        #expect(service.me(tokens).status == .unauthorized)
        #expect(service.refresh(tokens.refresh).status == .unauthorized)
        #expect(service.me(other).status == .ok)
        // Without a body too.
        #expect(service.request("POST", "/api/v1/auth/logout", token: other.access).status == .ok)
        #expect(service.me(other).status == .unauthorized)
        #expect(try service.eventTypes(user).filter { $0 == "logout" }.count == 2)
    }

    @Test func logoutAllRevokesEverySession() throws {
        let service = try TestService()
        let user = try service.register()
        let logins = try (0..<3).map { _ in try service.login(user.email) }
        let response = service.request("POST", "/api/v1/auth/logout-all", token: logins[0].access)
        #expect(response.status == .ok && response.text == #"{"message":"Logged out from all devices","sessions_revoked":3}"#)
        for tokens in logins {
            #expect(service.me(tokens).status == .unauthorized)
            #expect(service.refresh(tokens.refresh).status == .unauthorized)
        }
        #expect(try service.count("SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL", [user.id]) == 0)
        #expect(try service.eventTypes(user).filter { $0 == "logout_all" }.count == 1)
    }

    @Test func revokingOneSession() throws {
        let service = try TestService()
        let user = try service.register()
        let a = try service.login(user.email, userAgent: "Laptop/2.0")
        let b = try service.login(user.email, userAgent: "PhoneApp/1.0")
        let sessionB = try service.sessionID(b)
        let (_, stranger) = try service.newUser()
        for id in [try service.sessionID(stranger), "6f1c1a5e-3b9e-4f57-9a53-0a1f5b0c2d3e", "not-a-uuid"] {
            let response = service.request("DELETE", "/api/v1/auth/sessions/\(id)", token: a.access)
            #expect(response.status == .notFound && response.text == #"{"detail":"Session not found"}"#, "\(id)")
        }
        #expect(service.me(stranger).status == .ok)
        let listed = try #require(service.request("GET", "/api/v1/auth/sessions", token: a.access).json?.array)
        #expect(listed.count == 2)
        let current = try #require(listed.first { $0["is_current"] == true })
        #expect(current["user_agent"] == "Laptop/2.0" && current["ip_address"] == "192.0.2.10")
        #expect(listed.first { $0["is_current"] == false }?["id"]?.string == sessionB)

        let revoked = service.request("DELETE", "/api/v1/auth/sessions/\(sessionB.uppercased())", token: a.access)
        #expect(revoked.status == .ok && revoked.text == #"{"message":"Session revoked"}"#)
        #expect(service.me(b).status == .unauthorized)
        #expect(service.refresh(b.refresh).status == .unauthorized)
        #expect(service.me(a).status == .ok)
        #expect(service.request("DELETE", "/api/v1/auth/sessions/\(sessionB)", token: a.access).status == .notFound)
        #expect(service.request("GET", "/api/v1/auth/sessions", token: a.access).json?.array?.count == 1)
        #expect(try service.eventTypes(user).filter { $0 == "session_revoked" }.count == 1)
    }

    @Test func aDeactivatedAccountLosesAccessImmediately() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        #expect(service.me(tokens).status == .ok)
        try service.database.query("UPDATE users SET is_active = false WHERE id = $1", [user.id])
        #expect(service.me(tokens).status == .unauthorized)
        #expect(service.refresh(tokens.refresh).status == .unauthorized)
    }

    @Test func lastSeenIsNotWrittenOnEveryRead() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        let session = try service.sessionID(tokens)
        let lastSeen = "SELECT last_seen_at::text FROM user_sessions WHERE id = $1"
        let before = try service.value(lastSeen, [session])
        for _ in 0..<5 { #expect(service.me(tokens).status == .ok) }
        #expect(try service.value(lastSeen, [session]) == before)
        try service.shift("user_sessions", ["last_seen_at"], by: 3600, where: "id = '\(session)'")
        #expect(service.me(tokens).status == .ok)
        #expect(try service.count("SELECT count(*) FROM user_sessions WHERE id = $1 AND last_seen_at > now() - interval '1 minute'",
                                  [session]) == 1)
    }
}
