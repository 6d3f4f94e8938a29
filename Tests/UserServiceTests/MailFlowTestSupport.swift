import HTTP
import Testing
@testable import UserService

/// The mail flows' steps through the `Application`, and what their mails carry, read from the outbox (the mailer,
/// which would deliver them, is not part of these tests).
extension TestService {
    /// The token the latest mail of `kind` to `recipient` carries.
    func mailedToken(to recipient: String, _ kind: OutgoingMail.Kind) throws -> String {
        try #require(try value("""
            SELECT variables->>'token' FROM mail_outbox WHERE recipient = $1 AND kind = $2 ORDER BY created_at DESC LIMIT 1
            """, [recipient, kind.rawValue]), "no \(kind.rawValue) mail with a token to \(recipient)")
    }

    /// How many mails of `kind` were queued for `recipient`.
    func mailCount(to recipient: String, _ kind: OutgoingMail.Kind) throws -> Int {
        try count("SELECT count(*) FROM mail_outbox WHERE recipient = $1 AND kind = $2", [recipient, kind.rawValue])
    }

    @discardableResult
    func requestReset(_ email: String) -> TestResponse {
        request("POST", "/api/v1/auth/password-reset-request", json: .object([("email", .string(email))]))
    }

    /// A reset link mailed to `user`, then the account's row locked by a transaction the test's connection opens (a
    /// race test's `COMMIT` releases it).
    func resetLinkWithTheAccountHeld(_ user: User) throws -> String {
        requestReset(user.email)
        let token = try mailedToken(to: user.email, .passwordReset)
        try database.query("BEGIN")
        try database.query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", [user.id])
        return token
    }

    static func resetConfirmation(_ token: String, _ password: String, confirmation: String? = nil) -> JSONValue {
        .object([("token", .string(token)), ("new_password", .string(password)), ("confirm_password", .string(confirmation ?? password))])
    }

    func confirmReset(_ token: String, _ password: String, confirmation: String? = nil) -> TestResponse {
        request("POST", "/api/v1/auth/password-reset-confirm", json: Self.resetConfirmation(token, password, confirmation: confirmation))
    }

    func verifyEmail(_ token: String) -> TestResponse {
        request("POST", "/api/v1/auth/verify-email", json: .object([("token", .string(token))]))
    }

    func changeEmail(_ tokens: Tokens, to address: String, password: String = TestService.password) -> TestResponse {
        request("POST", "/api/v1/auth/change-email", json: .object([("new_email", .string(address)), ("password", .string(password))]),
                token: tokens.access)
    }
}

/// The one answer to a token that cannot be used.
let invalidToken = #"{"detail":"Invalid or expired token"}"#
