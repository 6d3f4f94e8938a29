import HTTP

/// `POST /api/v1/auth/password-reset-request` and `POST /api/v1/auth/password-reset-confirm`: a reset link by mail,
/// then a new password for whoever holds it. Routes are in `Routes.swift`, bodies in `Models/MailFlowRequests.swift`,
/// SQL in `PasswordResetRepository`; the mail is queued in the outbox (`Mail/`) and sent by the mailer.
struct PasswordResetController {
    let services: Services

    /// The one answer to every reset request, whatever the address.
    static let requested = Message("If the address is registered, a reset link has been sent")
    /// The one answer to every token that cannot be used, whatever the reason.
    static let invalidToken = APIError(.badRequest, "Invalid or expired token")

    // MARK: POST /password-reset-request

    /// The same answer, after the same statements, for an active account, an unknown or inactive address and an
    /// address over its hourly limit; no bcrypt and no sending in the request (the mailer sends).
    func request(_ context: RequestContext, _ body: PasswordResetRequest) throws -> Message {
        try services.passwordResets.request(email: body.email) { SecurityEvent(.passwordResetRequested, userID: $0, request: context.request) }
        return Self.requested
    }

    // MARK: POST /password-reset-confirm

    /// The password rules need the token's account, so an invalid token is found (400) before them (422); the
    /// token is spent only with a password that passes, so a refused one can be corrected and sent again.
    func confirm(_ context: RequestContext, _ body: PasswordResetConfirmRequest) throws -> Message {
        guard let account = try services.passwordResets.account(token: body.token) else { throw Self.invalidToken }
        try services.passwordRules.check(body.newPassword, email: account.email, username: account.username, field: "new_password")
        guard try services.passwordResets.reset(
            token: body.token, userID: account.id, newHash: try services.hasher.hash(body.newPassword), sessions: services.sessions,
            event: SecurityEvent(.passwordReset, userID: account.id, request: context.request))
        else { throw Self.invalidToken }
        return Message("Password has been reset")
    }
}
