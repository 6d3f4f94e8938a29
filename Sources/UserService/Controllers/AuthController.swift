import HTTP
import Postgres

/// `/api/v1/auth/...`: register, login, refresh, logout, logout-all, me, change-password, sessions, events.
/// SQL lives in the repositories (`UserRepository`, `SessionRepository`, `LoginThrottleRepository`,
/// `SecurityEventRepository`).
struct AuthController {
    let configuration: Configuration
    let users: UserRepository
    let sessions: SessionRepository
    let throttle: LoginThrottleRepository
    let passwordChanges: PasswordChangeLimitRepository
    let events: SecurityEventRepository
    let tokens: AccessTokens
    let authenticator: Authenticator
    let hasher: PasswordHasher
    let commonPasswords: CommonPasswords

    init(_ services: Services) {
        configuration = services.configuration
        users = services.users
        events = services.events
        sessions = services.sessions
        throttle = services.throttle
        passwordChanges = services.passwordChanges
        tokens = services.tokens
        authenticator = services.authenticator
        hasher = services.hasher
        commonPasswords = CommonPasswords()
    }

    static let invalidCredentials = APIError.unauthorized("Incorrect email or password")
    static let invalidRefreshToken = APIError.unauthorized("Invalid refresh token")

    static func throttled(retryAfter: Int) -> APIError {
        APIError(.tooManyRequests, "Too many login attempts. Try again later.", headers: [("Retry-After", String(retryAfter))])
    }

    static func tooManyPasswordChanges(retryAfter: Int) -> APIError {
        APIError(.tooManyRequests, "Too many password changes. Try again later.", headers: [("Retry-After", String(retryAfter))])
    }

    /// Every rule for a password being set, as messages for `field`.
    private func checkNewPassword(_ password: String, field: String, email: String?, username: String?, body: inout RequestBody) {
        let problems = configuration.passwordPolicy.problems(with: password, email: email, username: username)
        for problem in problems { body.fail(field, "Value error, \(problem)") }
        if problems.isEmpty && commonPasswords.contains(password) {
            body.fail(field, "Value error, Password is too common: choose one that is harder to guess")
        }
    }

    // MARK: POST /register

    func register(_ context: RequestContext) throws -> HTTPResponse {
        var body = try context.jsonBody()
        let email = body.string("email", maxLength: 254)?.trimmingWhitespace().lowercased()
        let username = body.string("username", maxLength: 32)
        let fullName = body.optionalString("full_name", maxLength: 200)
        let password = body.string("password", maxLength: 1024)
        let confirmation = body.string("confirm_password", maxLength: 1024)
        if let email, !AccountRules.isValidEmail(email) {
            body.fail("email", "value is not a valid email address: An email address must have an @-sign and a valid domain.")
        }
        if let username, !AccountRules.isValidUsername(username) { body.fail("username", "Value error, \(AccountRules.usernameMessage)") }
        if let password {
            checkNewPassword(password, field: "password", email: email, username: username, body: &body)
            if let confirmation, confirmation != password { body.fail("confirm_password", "Value error, Passwords do not match") }
        }
        try body.finish()
        let user = try users.create(email: email!, username: username!, fullName: fullName ?? nil,
                                    hashedPassword: try hasher.hash(password!))
        return UserResponse.make(user, status: .created)
    }

    // MARK: POST /login

    func login(_ context: RequestContext) throws -> HTTPResponse {
        var body = try context.jsonBody()
        let login = body.string("email", maxLength: 254)
        let password = body.string("password", maxLength: 1024)
        try body.finish()
        let identifier = login!.trimmingWhitespace().lowercased()
        // Counted before any password is checked, for accounts that exist and ones that do not alike.
        if let wait = try throttle.attempt(identifier) {
            try events.record(SecurityEvent(.loginThrottled, userID: nil, request: context.request))
            throw Self.throttled(retryAfter: wait)
        }
        guard let credentials = try users.credentials(login: identifier) else {
            hasher.verifyAgainstDummy(password!)
            try events.record(SecurityEvent(.loginFailure, userID: nil, request: context.request))
            throw Self.invalidCredentials
        }
        guard hasher.verify(password!, hash: credentials.hashedPassword) else {
            try events.record(SecurityEvent(.loginFailure, userID: credentials.id, request: context.request))
            throw Self.invalidCredentials
        }
        guard credentials.isActive else {
            try throttle.reset(identifier)
            throw APIError(.forbidden, "Inactive user")
        }
        // The session opens only if the account still has the hash just checked: a password change that
        // committed meanwhile makes this login fail as a wrong password would, throttle and event included.
        guard let session = try sessions.open(
            userID: credentials.id, verifiedHash: credentials.hashedPassword,
            upgradedHash: try hasher.upgrade(password!, verifiedAgainst: credentials.hashedPassword),
            sessionDays: configuration.sessionMaxDays, refreshDays: configuration.refreshTokenExpireDays,
            event: SecurityEvent(.loginSuccess, userID: credentials.id, request: context.request))
        else {
            try events.record(SecurityEvent(.loginFailure, userID: credentials.id, request: context.request))
            throw Self.invalidCredentials
        }
        try throttle.reset(identifier)
        return try tokenResponse(userID: credentials.id, sessionID: session.id, refreshToken: session.refreshToken)
    }

    private func tokenResponse(userID: String, sessionID: String, refreshToken: String) throws -> HTTPResponse {
        .json(.object([
            ("access_token", .string(try tokens.issue(userID: userID, sessionID: sessionID))),
            ("refresh_token", .string(refreshToken)), ("token_type", "bearer"),
            ("expires_in", .integer(Int(tokens.lifetimeSeconds))),
        ]))
    }

    // MARK: POST /refresh

    func refresh(_ context: RequestContext) throws -> HTTPResponse {
        var body = try context.jsonBody()
        let token = body.string("refresh_token", maxLength: 128)
        try body.finish()
        if let rotated = try sessions.rotate(refreshToken: token!, refreshDays: configuration.refreshTokenExpireDays) {
            return try tokenResponse(userID: rotated.userID, sessionID: rotated.sessionID, refreshToken: rotated.refreshToken)
        }
        // A token that was already rotated is being replayed: past the grace window, treat it as stolen.
        if let used = try sessions.usedToken(token!, grace: configuration.refreshReuseGraceSeconds), !used.withinGrace {
            try sessions.revoke(userID: used.userID, .one(used.sessionID),
                                event: SecurityEvent(.refreshTokenReuse, userID: used.userID, request: context.request))
        }
        throw Self.invalidRefreshToken
    }

    // MARK: POST /logout, POST /logout-all

    func logout(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try authenticator.authenticate(context.request)
        // The body may name this session's refresh token; the session's tokens are all revoked either way.
        try sessions.revoke(userID: caller.user.id, .one(caller.sessionID),
                            event: SecurityEvent(.logout, userID: caller.user.id, request: context.request))
        return .json(.object([("message", "Successfully logged out")]))
    }

    func logoutAll(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try authenticator.authenticate(context.request)
        let count = try sessions.revoke(userID: caller.user.id, .all,
                                        event: SecurityEvent(.logoutAll, userID: caller.user.id, request: context.request))
        return .json(.object([("message", "Logged out from all devices"), ("sessions_revoked", .integer(count))]))
    }

    // MARK: GET /me

    func me(_ context: RequestContext) throws -> HTTPResponse {
        UserResponse.make(try authenticator.authenticate(context.request).user)
    }

    // MARK: POST /change-password

    func changePassword(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try authenticator.authenticate(context.request)
        var body = try context.jsonBody()
        let current = body.string("current_password", maxLength: 1024)
        let new = body.string("new_password", maxLength: 1024)
        let confirmation = body.string("confirm_password", maxLength: 1024)
        if let new {
            checkNewPassword(new, field: "new_password", email: caller.user.email, username: caller.user.username, body: &body)
            if let confirmation, confirmation != new { body.fail("confirm_password", "Value error, Passwords do not match") }
            if let current, current == new { body.fail("new_password", "Value error, New password must differ from the current one") }
        }
        try body.finish()
        // Every attempt costs two bcrypt computations: limited per account, successes included.
        if let wait = try passwordChanges.attempt(userID: caller.user.id) { throw Self.tooManyPasswordChanges(retryAfter: wait) }
        // A wrong current password counts against the same throttle as a login with the account's email.
        if let wait = try throttle.attempt(caller.user.email) { throw Self.throttled(retryAfter: wait) }
        guard let hash = try users.hashedPassword(userID: caller.user.id), hasher.verify(current!, hash: hash) else {
            throw APIError(.badRequest, "Incorrect current password")
        }
        try throttle.reset(caller.user.email)
        // Only if the hash is still the one just checked and this session still live: a concurrent change or
        // revocation wins, and this request fails as a revoked session would.
        guard try sessions.changePassword(
            userID: caller.user.id, verifiedHash: hash, newHash: try hasher.hash(new!), keepSession: caller.sessionID,
            event: SecurityEvent(.passwordChange, userID: caller.user.id, request: context.request))
        else { throw APIError.unauthorized() }
        return .json(.object([("message", "Password changed successfully")]))
    }

    // MARK: GET /sessions, DELETE /sessions/{session_id}

    func listSessions(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try authenticator.authenticate(context.request)
        let list = try sessions.live(userID: caller.user.id).map { session -> JSONValue in
            .object([
                ("id", .string(session.id)), ("user_agent", .optional(session.userAgent)),
                ("ip_address", .optional(session.ipAddress)), ("created_at", .string(session.createdAt.iso8601)),
                ("last_activity", .string(session.lastSeenAt.iso8601)), ("expires_at", .string(session.expiresAt.iso8601)),
                ("is_active", true), ("is_current", .bool(session.id == caller.sessionID)),
            ])
        }
        return .json(.array(list))
    }

    func revokeSession(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try authenticator.authenticate(context.request)
        let id = context.parameter("session_id").lowercased()
        guard UUIDText.isValid(id),
              try sessions.revoke(userID: caller.user.id, .one(id),
                                  event: SecurityEvent(.sessionRevoked, userID: caller.user.id, request: context.request)) == 1
        else { throw APIError(.notFound, "Session not found") }
        return .json(.object([("message", "Session revoked")]))
    }

    // MARK: GET /events

    func listEvents(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try authenticator.authenticate(context.request)
        let query = QueryParameters(context.request)
        let limit = query.integer("limit", default: 20, range: 1...100)
        let offset = query.integer("offset", default: 0, range: 0...1_000_000)
        try query.finish()
        let page = try events.page(userID: caller.user.id, limit: limit, offset: offset)
        let items = page.items.map { event -> JSONValue in
            .object([
                ("id", .integer(event.id)), ("type", .string(event.type)),
                ("ip_address", .optional(event.ipAddress)), ("user_agent", .optional(event.userAgent)),
                ("created_at", .string(event.createdAt?.iso8601 ?? "")),
            ])
        }
        return .json(.object([("items", .array(items)), ("total", .integer(page.total)),
                              ("limit", .integer(limit)), ("offset", .integer(offset))]))
    }
}
