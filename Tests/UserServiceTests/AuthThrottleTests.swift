import HTTP
import Testing
@testable import UserService

/// The login throttle (limit 3, blocks of 30 s doubling up to 60 s) and change-password with its per-account limit,
/// through the `Application` against the real PostgreSQL. Blocks end by moving their times back in the database.
@Suite struct AuthThrottleTests {
    static let throttled = #"{"detail":"Too many login attempts. Try again later."}"#

    /// As if `seconds` had passed for every throttle counter: the block ends, the counting window does not.
    func passBlock(_ service: TestService, _ seconds: Int) throws {
        try service.shift("login_throttle", ["blocked_until", "updated_at"], by: seconds)
    }

    @Test func theLimitStartsABlockThatEndsWhenItsTimeHasPassed() throws {
        let service = try TestService()
        let user = try service.register()
        #expect((0..<3).map { _ in service.loginResponse(user.email, "WrongPass123").status } == Array(repeating: .unauthorized, count: 3))
        let blocked = service.loginResponse(user.email, "WrongPass123")
        #expect(blocked.status == .tooManyRequests && blocked.text == Self.throttled)
        #expect(blocked.header("Retry-After") == "30")  // the whole block, computed in the statement that starts it
        // Even the right password is refused while blocked, and it is never checked: three failures, no more.
        #expect(service.loginResponse(user.email).status == .tooManyRequests)
        #expect(try service.eventTypes(user) == ["login_failure", "login_failure", "login_failure"])
        #expect(try service.count("SELECT count(*) FROM security_events WHERE user_id IS NULL AND type = 'login_throttled'") == 2)
        #expect(try service.count("SELECT count(*) FROM login_throttle WHERE identifier = $1 AND blocked_until > now()", [user.email]) == 1)
        try passBlock(service, 30)
        #expect(service.loginResponse(user.email).status == .ok)
        // A success resets the counter.
        #expect(try service.count("SELECT count(*) FROM login_throttle") == 0)
    }

    @Test func successResetsAndBlocksGrowButStayCapped() throws {
        let service = try TestService()
        let user = try service.register()
        func attempt(_ password: String = "WrongPass123") -> TestResponse { service.loginResponse(user.email, password) }
        #expect([attempt().status, attempt().status] == [.unauthorized, .unauthorized])
        #expect(attempt(TestService.password).status == .ok)
        #expect([attempt().status, attempt().status, attempt().status] == [.unauthorized, .unauthorized, .unauthorized])
        let first = attempt()
        #expect(first.status == .tooManyRequests && first.header("Retry-After") == "30")
        #expect(attempt(TestService.password).status == .tooManyRequests)  // time has not moved
        try passBlock(service, 30)
        #expect([attempt().status, attempt().status, attempt().status] == [.unauthorized, .unauthorized, .unauthorized])
        let second = attempt()
        #expect(second.status == .tooManyRequests && second.header("Retry-After") == "60")
        try passBlock(service, 60)
        #expect([attempt().status, attempt().status, attempt().status] == [.unauthorized, .unauthorized, .unauthorized])
        #expect(attempt().header("Retry-After") == "60")  // capped at LOGIN_THROTTLE_MAX_DELAY_SECONDS
        #expect(try service.value("SELECT lockouts FROM login_throttle WHERE identifier = $1", [user.email]) == "3")
    }

    @Test func unknownIdentifiersAreThrottledTheSameWay() throws {
        let service = try TestService()
        let statuses = (0..<5).map { _ in service.loginResponse("nobody@example.com").status }
        #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests])
    }

    @Test func changePassword() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let other = try service.login(user.email)
        let wrong = service.changePassword(tokens, current: "WrongPass123", new: "NewPass456")
        #expect(wrong.status == .badRequest && wrong.text == #"{"detail":"Incorrect current password"}"#)
        #expect(service.changePassword(tokens, current: TestService.password, new: "weak").status == .unprocessableEntity)
        #expect(service.changePassword(tokens, current: TestService.password, new: "NewPass456", confirmation: "NewPass457").status
            == .unprocessableEntity)
        let before = try service.value("SELECT hashed_password FROM users WHERE id = $1", [user.id])
        let ok = service.changePassword(tokens, current: TestService.password, new: "NewPass456")
        #expect(ok.status == .ok && ok.text == #"{"message":"Password changed successfully"}"#)
        #expect(try service.value("SELECT hashed_password FROM users WHERE id = $1", [user.id]) != before)
        // This session stays; every other one is revoked with its refresh tokens.
        #expect(service.me(tokens).status == .ok)
        #expect(service.me(other).status == .unauthorized)
        #expect(service.refresh(other.refresh).status == .unauthorized)
        #expect(service.refresh(tokens.refresh).status == .ok)
        #expect(service.loginResponse(user.email).status == .unauthorized)
        #expect(service.loginResponse(user.email, "NewPass456").status == .ok)
        #expect(try service.eventTypes(user).filter { $0 == "password_change" }.count == 1)
    }

    @Test func aWrongCurrentPasswordCountsAgainstTheLoginThrottle() throws {
        let service = try TestService(["CHANGE_PASSWORD_MAX_PER_HOUR": "100"])
        let (user, tokens) = try service.newUser()
        let statuses = (0..<3).map { _ in service.changePassword(tokens, current: "WrongPass123", new: "NewPass456x").status }
        #expect(statuses == [.badRequest, .badRequest, .badRequest])
        let blocked = service.loginResponse(user.email)
        #expect(blocked.status == .tooManyRequests && blocked.header("Retry-After") == "30")
        // And change-password itself is throttled then, even with the right current password.
        let change = service.changePassword(tokens, current: TestService.password, new: "NewPass456x")
        #expect(change.status == .tooManyRequests && change.text == Self.throttled && change.header("Retry-After") != nil)
        #expect(service.loginResponse(user.email, "NewPass456x").status == .tooManyRequests)
        try passBlock(service, 30)
        #expect(service.changePassword(tokens, current: TestService.password, new: "NewPass456x").status == .ok)
    }

    /// Per account, successes included: every allowed attempt costs two bcrypt computations, a refused one none.
    @Test func changePasswordIsLimitedPerAccount() throws {
        let service = try TestService()
        let accounts = try (0..<3).map { _ in try service.newUser() }
        let hashesBefore = try hashes(service)
        var statuses: [HTTPStatus] = []
        for round in 0..<8 {
            for (_, tokens) in accounts {  // alternating two passwords: every allowed attempt succeeds
                let (current, new) = round % 2 == 0 ? (TestService.password, "NewPass456") : ("NewPass456", TestService.password)
                let response = service.changePassword(tokens, current: current, new: new)
                statuses.append(response.status)
                if response.status == .tooManyRequests {
                    #expect(response.text == #"{"detail":"Too many password changes. Try again later."}"#)
                    let retryAfter = try #require(response.header("Retry-After").flatMap { Int($0) })
                    #expect((3500...3600).contains(retryAfter))
                }
            }
        }
        #expect(statuses.filter { $0 == .ok }.count == 9 && statuses.filter { $0 == .tooManyRequests }.count == 15)
        #expect(try hashes(service) - hashesBefore == 9 * 2)
        // A wrong current password counts too: the window's end is the only way out.
        let (_, fresh) = try service.newUser()
        #expect(service.changePassword(fresh, current: "WrongPass123", new: "NewPass456").status == .badRequest)
        #expect(service.changePassword(fresh, current: "WrongPass123", new: "NewPass456").status == .badRequest)
        #expect(service.changePassword(fresh, current: TestService.password, new: "NewPass456").status == .ok)
        #expect(service.changePassword(fresh, current: "NewPass456", new: TestService.password).status == .tooManyRequests)
        try service.shift("password_change_attempts", ["window_started_at"], by: 3600)
        #expect(service.changePassword(accounts[0].1, current: "NewPass456", new: TestService.password).status == .ok)
        #expect(service.changePassword(fresh, current: "NewPass456", new: TestService.password).status == .ok)
    }

    func hashes(_ service: TestService) throws -> Int {
        let line = try #require(service.metrics.split(separator: "\n").first { $0.hasPrefix("user_service_password_hashes_total ") })
        return try #require(Int(line.split(separator: " ")[1]))
    }
}
