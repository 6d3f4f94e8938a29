import HTTP
import Postgres

/// `/api/v1/auth/...`: register, login, refresh, logout, logout-all, me, change-password, sessions, events.
/// Routes and their attributes are in `Routes.swift`; bodies and answers in `Models/`; SQL in the repositories
/// (`UserRepository`, `SessionRepository`, `LoginThrottleRepository`, `AccountWindowLimit`,
/// `SecurityEventRepository`).
struct AuthController {
    let services: Services
    private var configuration: Configuration { services.configuration }

    static let invalidCredentials = APIError.unauthorized("Incorrect email or password")
    static let invalidRefreshToken = APIError.unauthorized("Invalid refresh token")

    static func throttled(retryAfter: Int) -> APIError {
        APIError(.tooManyRequests, "Too many login attempts. Try again later.", headers: [("Retry-After", String(retryAfter))])
    }

    static func tooManyPasswordChanges(retryAfter: Int) -> APIError {
        APIError(.tooManyRequests, "Too many password changes. Try again later.", headers: [("Retry-After", String(retryAfter))])
    }

    // MARK: POST /register

    func register(_ context: RequestContext, _ body: RegisterRequest) throws -> UserResponse {
        let verifications = configuration.emailVerificationOnRegister ? services.emailVerifications : nil
        return UserResponse(try services.users.create(
            email: body.email, username: body.username, fullName: body.fullName, hashedPassword: try services.hasher.hash(body.password)
        ) { user, connection in
            try verifications?.issue(userID: user.id, email: user.email, on: connection)
        })
    }

    // MARK: POST /login

    func login(_ context: RequestContext, _ body: LoginRequest) throws -> TokenResponse {
        let identifier = body.login.trimmingWhitespace().lowercased()
        // Counted before any password is checked, for accounts that exist and ones that do not alike.
        if let wait = try services.throttle.attempt(identifier) {
            try services.events.record(SecurityEvent(.loginThrottled, userID: nil, request: context.request))
            throw Self.throttled(retryAfter: wait)
        }
        guard let credentials = try services.users.credentials(login: identifier) else {
            services.hasher.verifyAgainstDummy(body.password)
            try services.events.record(SecurityEvent(.loginFailure, userID: nil, request: context.request))
            throw Self.invalidCredentials
        }
        guard services.hasher.verify(body.password, hash: credentials.hashedPassword) else {
            try services.events.record(SecurityEvent(.loginFailure, userID: credentials.id, request: context.request))
            throw Self.invalidCredentials
        }
        guard credentials.isActive else {
            try services.throttle.reset(identifier)
            throw APIError(.forbidden, "Inactive user")
        }
        guard credentials.isVerified || !configuration.requireVerifiedEmail else {
            try services.throttle.reset(identifier)
            throw APIError(.forbidden, "Email not verified")
        }
        // The session opens only if the account still has the hash just checked: a password change that
        // committed meanwhile makes this login fail as a wrong password would, throttle and event included.
        guard let session = try services.sessions.open(
            userID: credentials.id, verifiedHash: credentials.hashedPassword,
            upgradedHash: try services.hasher.upgrade(body.password, verifiedAgainst: credentials.hashedPassword),
            sessionDays: configuration.sessionMaxDays, refreshDays: configuration.refreshTokenExpireDays,
            event: SecurityEvent(.loginSuccess, userID: credentials.id, request: context.request))
        else {
            try services.events.record(SecurityEvent(.loginFailure, userID: credentials.id, request: context.request))
            throw Self.invalidCredentials
        }
        try services.throttle.reset(identifier)
        return try tokens(userID: credentials.id, sessionID: session.id, refreshToken: session.refreshToken)
    }

    private func tokens(userID: String, sessionID: String, refreshToken: String) throws -> TokenResponse {
        TokenResponse(accessToken: try services.tokens.issue(userID: userID, sessionID: sessionID), refreshToken: refreshToken,
                      expiresIn: Int(services.tokens.lifetimeSeconds))
    }

    // MARK: POST /refresh

    func refresh(_ context: RequestContext, _ body: RefreshRequest) throws -> TokenResponse {
        let sessions = services.sessions
        if let rotated = try sessions.rotate(refreshToken: body.refreshToken, refreshDays: configuration.refreshTokenExpireDays) {
            return try tokens(userID: rotated.userID, sessionID: rotated.sessionID, refreshToken: rotated.refreshToken)
        }
        // A token that was already rotated is being replayed: past the grace window, treat it as stolen.
        if let used = try sessions.usedToken(body.refreshToken, grace: configuration.refreshReuseGraceSeconds), !used.withinGrace {
            try sessions.revoke(userID: used.userID, .one(used.sessionID),
                                event: SecurityEvent(.refreshTokenReuse, userID: used.userID, request: context.request))
        }
        throw Self.invalidRefreshToken
    }

    // MARK: POST /logout, POST /logout-all

    func logout(_ caller: Caller, _ context: RequestContext) throws -> Message {
        // A body may name this session's refresh token; the session's tokens are all revoked either way.
        try services.sessions.revoke(userID: caller.user.id, .one(caller.sessionID),
                                     event: SecurityEvent(.logout, userID: caller.user.id, request: context.request))
        return Message("Successfully logged out")
    }

    func logoutAll(_ caller: Caller, _ context: RequestContext) throws -> LogoutAllResponse {
        let count = try services.sessions.revoke(userID: caller.user.id, .all,
                                                 event: SecurityEvent(.logoutAll, userID: caller.user.id, request: context.request),
                                                 endingLinks: .sessionsRevoked)
        return LogoutAllResponse(sessionsRevoked: count)
    }

    // MARK: GET /me

    func me(_ caller: Caller, _ context: RequestContext) -> UserResponse { UserResponse(caller.user) }

    // MARK: POST /change-password

    func changePassword(_ caller: Caller, _ context: RequestContext, _ body: ChangePasswordRequest) throws -> Message {
        try services.passwordRules.check(body.newPassword, email: caller.user.email, username: caller.user.username, field: "new_password")
        // Every attempt costs two bcrypt computations: limited per account, successes included.
        if let wait = try services.passwordChanges.count(userID: caller.user.id) { throw Self.tooManyPasswordChanges(retryAfter: wait) }
        // A wrong current password counts against the same throttle as a login with the account's email.
        if let wait = try services.throttle.attempt(caller.user.email) { throw Self.throttled(retryAfter: wait) }
        guard let hash = try services.users.hashedPassword(userID: caller.user.id),
              services.hasher.verify(body.currentPassword, hash: hash)
        else { throw APIError(.badRequest, "Incorrect current password") }
        try services.throttle.reset(caller.user.email)
        // Only if the hash is still the one just checked and this session still live: a concurrent change or
        // revocation wins, and this request fails as a revoked session would.
        guard try services.sessions.changePassword(
            userID: caller.user.id, verifiedHash: hash, newHash: try services.hasher.hash(body.newPassword),
            keepSession: caller.sessionID, event: SecurityEvent(.passwordChange, userID: caller.user.id, request: context.request))
        else { throw APIError.unauthorized() }
        return Message("Password changed successfully")
    }

    // MARK: GET /sessions, DELETE /sessions/{session_id}

    func listSessions(_ caller: Caller, _ context: RequestContext) throws -> [SessionResponse] {
        try services.sessions.live(userID: caller.user.id).map { SessionResponse(session: $0, isCurrent: $0.id == caller.sessionID) }
    }

    func revokeSession(_ caller: Caller, _ context: RequestContext) throws -> Message {
        let id = context.parameter("session_id").lowercased()
        guard UUIDText.isValid(id),
              try services.sessions.revoke(userID: caller.user.id, .one(id),
                                           event: SecurityEvent(.sessionRevoked, userID: caller.user.id, request: context.request)) == 1
        else { throw APIError(.notFound, "Session not found") }
        return Message("Session revoked")
    }

    // MARK: GET /events

    func listEvents(_ caller: Caller, _ context: RequestContext, _ query: EventsQuery) throws -> Page<SecurityEventResponse> {
        let page = try services.events.page(userID: caller.user.id, limit: query.limit, offset: query.offset)
        return Page(items: page.events.map(SecurityEventResponse.init), total: page.total,
                                 limit: query.limit, offset: query.offset)
    }
}
