import Postgres

/// A mail the service owes an account, queued in the outbox inside the transaction of the change that causes it.
/// The mailer (`user-service mailer`) renders it from the templates and sends it; the link, when there is one, is
/// built there from `PUBLIC_BASE_URL` and the kind's path.
struct OutgoingMail {
    enum Kind: String, CaseIterable {
        /// The reset link (`/reset-password?token=`).
        case passwordReset = "password_reset"
        /// "Your password was changed": after a reset and every change, no link.
        case passwordChanged = "password_changed"
        /// The verification link (`/verify-email?token=`), at registration, on request, and to a new address.
        case emailVerification = "email_verification"
        /// To the old address when a change of address is asked for, no link.
        case emailChangeNotice = "email_change_notice"
    }

    let kind: Kind
    let recipient: String
    let userID: String
    /// The token the link carries; nil for notices.
    let token: String?
    /// The token's expiry: a mail still pending then is dropped.
    let expiresAt: PostgresTimestamp?

    init(_ kind: Kind, to recipient: String, userID: String, token: String? = nil, expiresAt: PostgresTimestamp? = nil) {
        self.kind = kind
        self.recipient = recipient
        self.userID = userID
        self.token = token
        self.expiresAt = expiresAt
    }
}
