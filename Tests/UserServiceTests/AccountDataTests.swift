import HTTP
import Postgres
import Testing
@testable import UserService

/// `GET /api/v1/users/me/stats` and `GET /api/v1/users/me/export` on the real PostgreSQL.
@Suite struct AccountDataTests {
    @Test func statsCountWhatTheAccountHas() throws {
        let service = try TestService()
        let (stranger, _) = try service.newUser()  // its logins and sessions are not the caller's
        _ = try service.login(stranger.email)
        let (user, tokens) = try service.newUser()
        _ = try service.login(user.email)
        let other = try service.login(user.username)
        service.request("POST", "/api/v1/auth/logout", token: other.access)
        // The account is ten days old, by its timestamps.
        try service.shift("users", ["created_at"], by: 10 * 86400 + 60, where: "id = '\(user.id)'")
        var stats = try #require(service.get("/api/v1/users/me/stats", tokens).json)
        #expect(stats["account_age_days"] == 10)
        #expect(stats["logins"] == .object([("count", 3), ("within_days", 90)]))
        // Logins older than the events' retention are not counted, whether or not cleanup has run.
        try service.shift("security_events", ["created_at"], by: 91 * 86400, where: "user_id = '\(user.id)' AND type = 'login_success' AND id = (SELECT min(id) FROM security_events WHERE user_id = '\(user.id)')")
        #expect(service.get("/api/v1/users/me/stats", tokens).json?["logins"]?["count"] == 2)
        #expect(stats["live_sessions"] == 2)
        #expect(stats["is_verified"] == false && stats["is_premium"] == false)
        #expect(stats["last_login"]?.string != nil)
        // Completeness: full_name only (of 15 fields) until more is filled.
        #expect(stats["profile_completeness"]?["percentage"] == .integer(100 / 15))
        #expect(stats["profile_completeness"]?["missing_fields"]?.array?.count == 14)
        try service.saved("/api/v1/users/me", tokens, [("current_title", "Engineer"), ("location", "Berlin")])
        try service.saved("/api/v1/users/me/profile", tokens, [("headline", "Builds APIs"), ("skills", .array(["Swift"]))])
        stats = try #require(service.get("/api/v1/users/me/stats", tokens).json)
        #expect(stats["profile_completeness"]?["percentage"] == .integer(5 * 100 / 15))
        let missing = stats["profile_completeness"]?["missing_fields"]?.array?.compactMap(\.string) ?? []
        #expect(!missing.contains("headline") && !missing.contains("location") && missing.contains("bio"))
        #expect(service.get("/api/v1/users/me/stats", TestService.Tokens(access: "x.y.z", refresh: "")).status == .unauthorized)
    }

    @Test func theExportHoldsEverythingAndNoSecret() throws {
        let service = try TestService()
        // Another account with everything an export could show: none of it may appear.
        let (stranger, strangerTokens) = try service.newUser()
        try service.saved("/api/v1/users/me/profile", strangerTokens, [("bio", "Stranger's bio")])
        try service.saved("/api/v1/users/me/preferences", strangerTokens, [("desired_titles", .array(["Stranger"]))])
        let (user, tokens) = try service.newUser()
        let second = try service.login(user.username)
        service.request("POST", "/api/v1/auth/logout", token: second.access)
        try service.saved("/api/v1/users/me/profile", tokens, [("bio", "Hello"), ("phone", "+14155550123")])
        try service.saved("/api/v1/users/me/preferences", tokens, [("desired_titles", .array(["Engineer"]))])
        let response = service.get("/api/v1/users/me/export", tokens)
        #expect(response.status == .ok)
        #expect(response.header("Content-Disposition") == "attachment; filename=\"user-service-export-\(user.id).json\"")
        let export = try #require(response.json)
        #expect(export["account"]?["id"] == .string(user.id) && export["account"]?["email"] == .string(user.email))
        #expect(export["profile"]?["bio"] == "Hello" && export["preferences"]?["desired_titles"] == .array(["Engineer"]))
        // Both sessions, the revoked one included, and every event, newest first: the export itself is the newest.
        let sessions = try #require(export["sessions"]?.array)
        #expect(sessions.count == 2 && sessions.filter { $0["revoked_at"] != .null }.count == 1)
        let events = try #require(export["security_events"]?.array)
        #expect(events.first?["type"] == "data_export")
        #expect(Set(events.compactMap { $0["type"]?.string }) == ["data_export", "login_success", "logout"])
        #expect(try service.eventTypes(user).filter { $0 == "data_export" }.count == 1)

        // No secret: no stored hash or token of the account appears, and no key speaks of one.
        let hashes = try service.database.query("""
            SELECT hashed_password FROM users WHERE id = $1
            UNION ALL SELECT encode(token_hash, 'hex') FROM refresh_tokens WHERE user_id = $1
            UNION ALL SELECT encode(token_hash, 'base64') FROM refresh_tokens WHERE user_id = $1
            """, [user.id]).rows.compactMap { $0.string(0) }
        #expect(hashes.count == 5)
        for secret in hashes + [tokens.access, tokens.refresh, second.access, second.refresh, TestService.password] {
            #expect(!response.text.contains(secret))
        }
        for value in [stranger.id, stranger.email, stranger.username, "Stranger"] { #expect(!response.text.contains(value), "\(value)") }
        for word in ["password", "hash", "secret", "token"] { #expect(!Self.keys(export).contains { $0.lowercased().contains(word) }, "\(word)") }
    }

    @Test func theExportIsDocumentedAsAnAttachment() throws {
        let document = try JSONParser.parse(OpenAPIDocument.json(mountPath: ""))
        let export = document["paths"]?["/api/v1/users/me/export"]?["get"]
        #expect(export?["responses"]?["200"]?["content"]?["application/json"]?["schema"]?["$ref"] == "#/components/schemas/UserDataExport")
        #expect(export?["security"] != nil)
    }

    /// Every key of every object in `value`.
    static func keys(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let members): return members.flatMap { [$0.0] + keys($0.1) }
        case .array(let items): return items.flatMap(keys)
        default: return []
        }
    }
}
