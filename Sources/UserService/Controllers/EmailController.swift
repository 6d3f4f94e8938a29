import HTTP

/// `POST /api/v1/auth/verify-email-request`, `POST /api/v1/auth/verify-email` and `POST /api/v1/auth/change-email`:
/// verifying the account's address, and moving the account to a new one once that address is verified. Routes
/// are in `Routes.swift`, bodies in `Models/MailFlowRequests.swift`, SQL in `EmailVerificationRepository`.
struct EmailController {
    let services: Services

    static let alreadyVerified = APIError(.conflict, "Email already verified")

    /// Over a per-account limit of a route that mails a link (`VERIFY_EMAIL_MAX_PER_HOUR`, `CHANGE_EMAIL_MAX_PER_HOUR`).
    static func tooManyMails(_ what: String, retryAfter: Int) -> APIError {
        APIError(.tooManyRequests, "Too many \(what). Try again later.", headers: [("Retry-After", String(retryAfter))])
    }

    // MARK: POST /verify-email-request

    func request(_ caller: Caller, _ context: RequestContext) throws -> Message {
        if caller.user.isVerified { throw Self.alreadyVerified }
        if let wait = try services.verificationRequests.count(userID: caller.user.id) {
            throw Self.tooManyMails("verification emails", retryAfter: wait)
        }
        switch try services.emailVerifications.request(userID: caller.user.id) {
        case .sent: return Message("Verification email sent")
        case .alreadyVerified: throw Self.alreadyVerified
        case .gone: throw APIError.unauthorized()
        }
    }

    // MARK: POST /verify-email

    func verify(_ context: RequestContext, _ body: VerifyEmailRequest) throws -> Message {
        switch try services.emailVerifications.verify(token: body.token, event: { SecurityEvent($1, userID: $0, request: context.request) }) {
        case .verified: return Message("Email verified successfully")
        case .changed: return Message("Email changed successfully")
        case .invalid: throw PasswordResetController.invalidToken
        }
    }

    // MARK: POST /change-email

    /// Nothing changes on the account here: the new address is taken only when its link is followed. Every attempt
    /// is counted against the account's limit before the password is checked (each costs a bcrypt computation and
    /// may mail two addresses), successes included.
    func change(_ caller: Caller, _ context: RequestContext, _ body: ChangeEmailRequest) throws -> Message {
        if body.newEmail == caller.user.email {
            throw ValidationError(field: "new_email", message: "Value error, New email must differ from the current one")
        }
        if let wait = try services.addressChangeRequests.count(userID: caller.user.id) {
            throw Self.tooManyMails("email changes", retryAfter: wait)
        }
        let hash = try services.confirmPassword(body.password, of: caller)
        switch try services.emailVerifications.requestChange(
            userID: caller.user.id, to: body.newEmail, verifiedHash: hash,
            event: SecurityEvent(.emailChangeRequested, userID: caller.user.id, request: context.request)) {
        case .sent: return Message("A verification link has been sent to the new address")
        case .addressTaken: throw ConstraintErrors.emailTaken
        // The password changed, or the account went, since the password was checked: as a revoked session.
        case .superseded: throw APIError.unauthorized()
        }
    }
}
