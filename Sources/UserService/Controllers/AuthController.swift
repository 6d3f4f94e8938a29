import Postgres

/// `/api/v1/auth/...`: register, login, refresh, logout, logout-all, me, change-password, sessions.
/// SQL lives in `UserRepository` and `SessionRepository`.
struct AuthController {
    let configuration: Configuration
    let users: UserRepository
    let sessions: SessionRepository
    let tokens: AccessTokens
    let authenticator: Authenticator
    let hasher: PasswordHasher

    init(_ services: Services) {
        configuration = services.configuration
        users = UserRepository(database: services.database)
        sessions = SessionRepository(database: services.database)
        tokens = AccessTokens(configuration: configuration)
        authenticator = Authenticator(tokens: tokens, sessions: sessions,
                                      lastSeenInterval: configuration.sessionLastSeenIntervalSeconds)
        hasher = PasswordHasher(cost: configuration.bcryptRounds)
    }

    static let invalidCredentials = APIError.unauthorized("Incorrect email or password")

    // MARK: POST /register

    func register(_ context: RequestContext) throws -> HTTPResponse {
        var body = try RequestBody(context.request)
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
            for problem in configuration.passwordPolicy.problems(with: password, email: email, username: username) {
                body.fail("password", "Value error, \(problem)")
            }
            if let confirmation, confirmation != password { body.fail("confirm_password", "Value error, Passwords do not match") }
        }
        try body.finish()
        let user = try users.create(email: email!, username: username!, fullName: fullName ?? nil,
                                    hashedPassword: try hasher.hash(password!))
        return .json(user.json, status: .created)
    }

    // MARK: POST /login

    func login(_ context: RequestContext) throws -> HTTPResponse {
        var body = try RequestBody(context.request)
        let login = body.string("email", maxLength: 254)
        let password = body.string("password", maxLength: 1024)
        try body.finish()
        guard let credentials = try users.credentials(login: login!.trimmingWhitespace()) else {
            hasher.verifyAgainstDummy(password!)
            throw Self.invalidCredentials
        }
        guard hasher.verify(password!, hash: credentials.hashedPassword) else { throw Self.invalidCredentials }
        guard credentials.isActive else { throw APIError(.forbidden, "Inactive user") }
        let session = try sessions.open(userID: credentials.id, userAgent: context.request.userAgent,
                                        ipAddress: context.request.remoteAddress, sessionDays: configuration.sessionMaxDays,
                                        refreshDays: configuration.refreshTokenExpireDays)
        return tokenResponse(userID: credentials.id, sessionID: session.id, refreshToken: session.refreshToken)
    }

    private func tokenResponse(userID: String, sessionID: String, refreshToken: String) -> HTTPResponse {
        .json(.object([
            ("access_token", .string(tokens.issue(userID: userID, sessionID: sessionID))),
            ("refresh_token", .string(refreshToken)), ("token_type", "bearer"),
            ("expires_in", .integer(Int(tokens.lifetimeSeconds))),
        ]))
    }

    // MARK: POST /refresh

    func refresh(_ context: RequestContext) throws -> HTTPResponse {
        var body = try RequestBody(context.request)
        let token = body.string("refresh_token", maxLength: 128)
        try body.finish()
        guard let rotated = try sessions.rotate(refreshToken: token!, refreshDays: configuration.refreshTokenExpireDays) else {
            throw APIError.unauthorized("Invalid refresh token")
        }
        return tokenResponse(userID: rotated.userID, sessionID: rotated.sessionID, refreshToken: rotated.refreshToken)
    }

    // MARK: POST /logout, POST /logout-all

    func logout(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try authenticator.authenticate(context.request)
        // The body may name this session's refresh token; the session's tokens are all revoked either way.
        try sessions.revoke(userID: caller.user.id, .one(caller.sessionID))
        return .json(.object([("message", "Successfully logged out")]))
    }

    func logoutAll(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try authenticator.authenticate(context.request)
        let count = try sessions.revoke(userID: caller.user.id, .all)
        return .json(.object([("message", "Logged out from all devices"), ("sessions_revoked", .integer(count))]))
    }

    // MARK: GET /me

    func me(_ context: RequestContext) throws -> HTTPResponse {
        .json(try authenticator.authenticate(context.request).user.json)
    }

    // MARK: POST /change-password

    func changePassword(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try authenticator.authenticate(context.request)
        var body = try RequestBody(context.request)
        let current = body.string("current_password", maxLength: 1024)
        let new = body.string("new_password", maxLength: 1024)
        let confirmation = body.string("confirm_password", maxLength: 1024)
        if let new {
            for problem in configuration.passwordPolicy.problems(with: new, email: caller.user.email, username: caller.user.username) {
                body.fail("new_password", "Value error, \(problem)")
            }
            if let confirmation, confirmation != new { body.fail("confirm_password", "Value error, Passwords do not match") }
            if let current, current == new { body.fail("new_password", "Value error, New password must differ from the current one") }
        }
        try body.finish()
        guard let hash = try users.hashedPassword(userID: caller.user.id), hasher.verify(current!, hash: hash) else {
            throw APIError(.badRequest, "Incorrect current password")
        }
        try sessions.changePassword(userID: caller.user.id, newHash: try hasher.hash(new!), keepSession: caller.sessionID)
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
        guard UUIDText.isValid(id), try sessions.revoke(userID: caller.user.id, .one(id)) == 1 else {
            throw APIError(.notFound, "Session not found")
        }
        return .json(.object([("message", "Session revoked")]))
    }
}
