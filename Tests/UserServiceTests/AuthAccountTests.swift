import HTTP
import Testing
@testable import UserService

/// `POST /register` and `POST /login` through the `Application`, against the real PostgreSQL.
@Suite struct AuthAccountTests {
    @Test func registerReturnsTheUserWithoutTheHash() throws {
        let service = try TestService()
        let response = service.request("POST", "/api/v1/auth/register", json: TestService.registration(
            email: "  Mixed.Case@Example.COM ", username: "Mixed_Case.1"))
        #expect(response.status == .created)
        guard case .object(let members) = try #require(response.json) else { throw Failure("not an object: \(response.text)") }
        #expect(members.map(\.0) == ["id", "email", "username", "full_name", "current_title", "location", "is_active", "is_verified", "is_premium",
                                     "premium_plan", "premium_expires_at", "created_at", "updated_at", "last_login"])
        let user = try #require(response.json)
        #expect(user["email"] == "mixed.case@example.com" && user["username"] == "Mixed_Case.1" && user["full_name"] == "Test User")
        #expect(user["is_active"] == true && user["is_verified"] == false && user["is_premium"] == false)
        #expect(user["last_login"] == .null && user["current_title"] == .null && user["location"] == .null)
        let created = try #require(user["created_at"]?.string)
        #expect(created.wholeMatch(of: try Regex(#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"#)) != nil)
        let id = try #require(user["id"]?.string)
        #expect(UUIDText.isValid(id))
        let stored = try #require(try service.value("SELECT hashed_password FROM users WHERE id = $1", [id]))
        #expect(stored.hasPrefix("$2b$04$"))
        #expect(try service.value("SELECT email FROM users WHERE id = $1", [id]) == "mixed.case@example.com")
        #expect(!response.text.contains(stored) && !response.text.contains(TestService.password))
    }

    @Test func duplicateEmailOrUsernameInAnyCaseIs409() throws {
        let service = try TestService()
        let user = try service.register()
        let sameEmail = service.request("POST", "/api/v1/auth/register", json: TestService.registration(
            email: user.email.uppercased(), username: "other_name"))
        #expect(sameEmail.status == .conflict && sameEmail.text == #"{"detail":"Email already registered"}"#)
        let sameName = service.request("POST", "/api/v1/auth/register", json: TestService.registration(
            email: "other@example.com", username: user.username.uppercased()))
        #expect(sameName.status == .conflict && sameName.text == #"{"detail":"Username already taken"}"#)
        #expect(try service.count("SELECT count(*) FROM users") == 1)
    }

    /// Each 422 entry by "loc type" → msg.
    func issues(_ response: TestResponse) throws -> [String: String] {
        try #require(response.status == .unprocessableEntity, "\(response.status.code) \(response.text)")
        var issues: [String: String] = [:]
        for item in try #require(response.json?["detail"]?.array) {
            let location = try #require(item["loc"]?.array).compactMap(\.string).joined(separator: ".")
            issues[location + " " + (try #require(item["type"]?.string))] = try #require(item["msg"]?.string)
        }
        return issues
    }

    @Test func registerValidationErrors() throws {
        let service = try TestService()
        let missing = try issues(service.request("POST", "/api/v1/auth/register", json: .object([])))
        for field in ["email", "username", "password", "confirm_password"] {
            #expect(missing["body.\(field) missing"] == "Field required", "\(field)")
        }
        func problems(email: String = "ok@example.com", username: String = "okname", password: String = TestService.password,
                      confirmation: String? = nil) throws -> [String: String] {
            try issues(service.request("POST", "/api/v1/auth/register", json: TestService.registration(
                email: email, username: username, password: password, confirmation: confirmation)))
        }
        #expect(try problems(email: "not-an-email").keys.contains { $0.hasPrefix("body.email ") })
        // Addresses no mail could reach are refused (no verification or reset link could ever arrive), and
        // internationalized ones with their own reason (the service sends ASCII addresses only).
        for email in ["a..b@example.com", "a<b>@example.com", "a,b@example.com", ".a@example.com", "josé@example.com", "user@exämple.com"] {
            let message = try problems(email: email)["body.email value_error"]
            #expect(message?.hasPrefix("value is not a valid email address: ") == true, "\(email): \(String(describing: message))")
            #expect(message?.contains("Internationalized") == !email.unicodeScalars.allSatisfy(\.isASCII), "\(email)")
        }
        #expect(try problems(username: "a@b")["body.username value_error"]?.contains("letters, digits") == true)
        #expect(try problems(username: "ab").keys.contains { $0.hasPrefix("body.username ") })
        for (password, words) in [("Short1A", "at least 8"), ("alllowercase1", "uppercase"), ("ALLUPPER1", "lowercase"),
                                  ("NoDigitsHere", "digit"), (String(repeating: "Aa1", count: 25), "72 bytes"),
                                  ("Abcdefg1\u{0}", "NUL")] {
            let messages = try problems(password: password).filter { $0.key.hasPrefix("body.password ") }.values
            #expect(messages.contains { $0.contains(words) }, "\(password): \(messages)")
        }
        #expect(try problems(email: "pass1word@x.io", password: "Pass1word@x.IO").values.joined().contains("same as the email"))
        #expect(try problems(username: "Okname123", password: "okNAME123").values.joined().contains("same as the username"))
        #expect(try problems(confirmation: "Different123")["body.confirm_password value_error"] == "Value error, Passwords do not match")
        let wrongType = try issues(service.request("POST", "/api/v1/auth/register", json: .object([("email", 5)])))
        #expect(wrongType["body.email string_type"] != nil)
        #expect(try service.count("SELECT count(*) FROM users") == 0)
    }

    @Test func commonPasswordsAreRefusedWhereAPasswordIsSet() throws {
        let service = try TestService()
        for common in ["Password1", "Password123", "Qwerty123", "Welcome1", "Letmein1"] {
            let response = service.request("POST", "/api/v1/auth/register", json: TestService.registration(
                email: "common@example.com", username: "common", password: common))
            #expect(response.status == .unprocessableEntity, "\(common)")
            #expect(response.json?["detail"]?.array?.first?["msg"]?.string?.contains("too common") == true, "\(common)")
        }
        #expect(try service.count("SELECT count(*) FROM users") == 0)
        let (_, tokens) = try service.newUser()  // SecurePass123, the seed's password, is accepted
        let change = service.changePassword(tokens, current: TestService.password, new: "Iloveyou1")
        #expect(change.status == .unprocessableEntity && change.text.contains("too common"))
    }

    @Test func loginByEmailOrUsernameInAnyCase() throws {
        let service = try TestService()
        let user = try service.register()
        for identifier in [user.email, user.email.uppercased(), user.username, " \(user.username.uppercased()) "] {
            let response = service.loginResponse(identifier)
            #expect(response.status == .ok, "\(identifier): \(response.text)")
            #expect(response.json?["token_type"] == "bearer" && response.json?["expires_in"] == 1800)
        }
        #expect(try service.count("SELECT count(*) FROM user_sessions WHERE user_id = $1", [user.id]) == 4)
        #expect(try service.eventTypes(user) == Array(repeating: "login_success", count: 4))
        let me = service.me(try service.login(user.email))
        #expect(me.json?["id"]?.string == user.id && me.json?["last_login"]?.string != nil)
    }

    @Test func wrongPasswordAndUnknownAccountLookTheSame() throws {
        let service = try TestService()
        let user = try service.register()
        let wrong = service.loginResponse(user.email, "WrongPass123")
        let unknown = service.loginResponse("nobody-" + user.email)
        #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
        #expect(wrong.text == #"{"detail":"Incorrect email or password"}"# && unknown.text == wrong.text)
        #expect(wrong.header("WWW-Authenticate") == "Bearer" && unknown.header("WWW-Authenticate") == "Bearer")
        #expect(try service.count("SELECT count(*) FROM user_sessions") == 0)
        // Both recorded as failures; the unknown one belongs to nobody.
        #expect(try service.eventTypes(user) == ["login_failure"])
        #expect(try service.count("SELECT count(*) FROM security_events WHERE user_id IS NULL AND type = 'login_failure'") == 1)
    }

    @Test func inactiveAccountIs403OnlyAfterTheRightPassword() throws {
        let service = try TestService()
        let user = try service.register()
        try service.database.query("UPDATE users SET is_active = false WHERE id = $1", [user.id])
        #expect(service.loginResponse(user.email, "WrongPass123").status == .unauthorized)
        let right = service.loginResponse(user.email)
        #expect(right.status == .forbidden && right.text == #"{"detail":"Inactive user"}"#)
        #expect(try service.count("SELECT count(*) FROM user_sessions") == 0)
    }

    @Test func protectedEndpointsAllRequireALiveToken() throws {
        let service = try TestService()
        let protected = [("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/logout-all"), ("GET", "/api/v1/auth/me"),
                         ("POST", "/api/v1/auth/change-password"), ("GET", "/api/v1/auth/sessions"), ("GET", "/api/v1/auth/events"),
                         ("DELETE", "/api/v1/auth/sessions/00000000-0000-0000-0000-000000000000")]
        for (method, path) in protected {
            let missing = service.request(method, path)
            #expect(missing.status == .unauthorized && missing.text == #"{"detail":"Not authenticated"}"#, "\(path)")
            #expect(missing.header("WWW-Authenticate") == "Bearer", "\(path)")
            let garbage = service.request(method, path, token: "not-a-jwt")
            #expect(garbage.status == .unauthorized && garbage.text == #"{"detail":"Could not validate credentials"}"#, "\(path)")
            #expect(garbage.header("WWW-Authenticate") == "Bearer", "\(path)")
        }
    }
}
