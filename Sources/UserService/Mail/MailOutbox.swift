import Postgres

/// Writes mails into the outbox. Always on the caller's transaction: the mail commits or rolls back with its cause.
/// The mailer gives each the `Message-ID` `<id@domain>` from its row, so a resend carries the same one.
enum MailOutbox {
    static let enqueueSQL = """
        INSERT INTO mail_outbox (user_id, kind, recipient, variables, expires_at)
        VALUES ($1, $2, $3, jsonb_strip_nulls(jsonb_build_object('token', $4::text)), $5)
        """

    static func enqueue(_ mail: OutgoingMail, on connection: PostgresConnection) throws {
        try connection.query(enqueueSQL, [mail.userID, mail.kind.rawValue, mail.recipient, mail.token, mail.expiresAt])
    }
}
