import Crypto
import Postgres

/// The SQL for password-reset tokens (`password_resets`, migration 0017): issuing one with its mail, and spending
/// one on a new password. Tokens are stored only as SHA-256 (`OpaqueToken`); the raw token leaves only in the mail.
struct PasswordResetRepository {
    let database: Database
    let events: SecurityEventRepository
    let lifetimeMinutes: Int
    let maxPerHour: Int

    /// The active account of an address, its row locked: a deactivation, a deletion or a password change of the
    /// account waits for the request (or the request for it), so no link is issued to an account that has just
    /// stopped being active. Lock order: the address's counter row, then this row, then the account's reset links.
    /// Every other writer of the account (confirm, change-password, change-email, verify-email, the administrators'
    /// actions) takes the account's row first and never waits for a counter row, so none can wait in a cycle with
    /// a request.
    static let lockAccount = PreparedStatement("password_reset_lock_account", """
        SELECT id, email FROM users WHERE lower(email) = $1 AND is_active FOR NO KEY UPDATE
        """)
    /// A token for account `$1` when `$3` (the address is under its limit); its earlier unused ones end. With `$1`
    /// NULL (no such active account) or `$3` false the same statement runs and issues nothing.
    static let issue = PreparedStatement("password_reset_issue", """
        WITH allowed AS (
            SELECT $1::uuid AS user_id WHERE $1::uuid IS NOT NULL AND $3::boolean
        ), superseded AS (
            UPDATE password_resets SET revoked_at = now()
            WHERE user_id IN (SELECT user_id FROM allowed) AND used_at IS NULL AND revoked_at IS NULL
        )
        INSERT INTO password_resets (user_id, token_hash, expires_at)
        SELECT user_id, $2, now() + make_interval(mins => $4) FROM allowed
        RETURNING expires_at
        """)

    /// A reset request for `email`, answered the same whatever happens here. Every request first counts itself
    /// against the address (`AccountWindowLimit.passwordResetRequests`, keyed by the address's SHA-256): a write in
    /// every case — a known or unknown address, an inactive account, over the limit or not — so every request's
    /// transaction has a transaction id and its commit waits for the same WAL flush (a read-only one would answer
    /// faster and tell that no active account has the address), and the counter's row lock makes requests for one
    /// address take turns. Then the same token is made and the same two statements run in the same transaction;
    /// only then, for a token actually issued, is the mail queued and the event (made by `event` for the account)
    /// recorded, in that transaction.
    func request(email: String, event: (_ userID: String) -> SecurityEvent) throws {
        let token = try OpaqueToken.generate()
        let addressKey = PostgresBytes(try Digest.sha256(Array(email.utf8)))
        let recorded = try database.transaction { connection -> SecurityEvent? in
            let overLimit = try AccountWindowLimit.passwordResetRequests.count(addressKey, limit: maxPerHour, on: connection) != nil
            let account = try connection.query(Self.lockAccount, [email]).first
            let userID = account?.string(0)
            let issued = try connection.query(Self.issue, [userID, PostgresBytes(token.hash), !overLimit, lifetimeMinutes]).first
            guard let userID, let address = account?.string(1), let expiresAt = try issued?.timestamp(0) else { return nil }
            try MailOutbox.enqueue(OutgoingMail(.passwordReset, to: address, userID: userID, token: token.token, expiresAt: expiresAt),
                                   on: connection)
            let recorded = event(userID)
            try events.record(recorded, on: connection)
            return recorded
        }
        if let recorded { events.counted(recorded) }
    }

    /// Whom a token still valid belongs to (the new password's rules need the account's email and username).
    struct Account {
        let id: String
        let email: String
        let username: String
    }

    static let account = PreparedStatement("password_reset_account", """
        SELECT u.id, u.email, u.username FROM password_resets r JOIN users u ON u.id = r.user_id
        WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > now() AND u.is_active
        """)

    /// The account of `token` if it may still be used; nil for an unknown, used, superseded or expired token, or
    /// one of an inactive account.
    func account(token: String) throws -> Account? {
        try database.withConnection(retry: true) { connection in
            guard let row = try connection.query(Self.account, [PostgresBytes(try OpaqueToken.hash(token))]).first else { return nil }
            return Account(id: try row.requiredString(0), email: try row.requiredString(1), username: try row.requiredString(2))
        }
    }

    /// The account's row, locked first (the order every writer of an account's rows takes), while it is active.
    static let lockActive = PreparedStatement("password_reset_lock_active", """
        SELECT email, username FROM users WHERE id = $1 AND is_active FOR NO KEY UPDATE
        """)
    /// Spends the token: only one transaction can, the next finds it used (it waited for the row).
    static let spend = PreparedStatement("password_reset_spend", """
        UPDATE password_resets SET used_at = now()
        WHERE token_hash = $1 AND user_id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
        RETURNING id
        """)
    /// The link reached the account's current address (a change of address ends it), so the address is verified.
    static let setHash = PreparedStatement("password_reset_set_hash", """
        UPDATE users SET hashed_password = $2, is_verified = true, updated_at = now() WHERE id = $1
        """)

    /// Spends `token` of account `userID` on `newHash`, marks the address verified (the link proved the mailbox:
    /// with `REQUIRE_VERIFIED_EMAIL` a reset is also the way back in for an account whose verification link
    /// expired), revokes every session of the account, ends its other reset links and pending changes of address,
    /// clears its login throttle, records `event` and queues the "password changed" notice, in one
    /// transaction (`SessionRepository.replacePassword`). False when the token could not be spent (used, superseded
    /// or expired meanwhile, or the account deactivated).
    func reset(token: String, userID: String, newHash: String, sessions: SessionRepository, event: SecurityEvent) throws -> Bool {
        let hash = PostgresBytes(try OpaqueToken.hash(token))
        return try sessions.replacePassword(userID: userID, event: event) { connection in
            guard let account = try connection.query(Self.lockActive, [userID]).first,
                  try connection.query(Self.spend, [hash, userID]).first != nil
            else { return nil }
            let email = try account.requiredString(0)
            try connection.query(Self.setHash, [userID, newHash])
            try LoginThrottleRepository.clear(email: email, username: try account.requiredString(1), on: connection)
            return (email, .all)
        }
    }

    /// What every change of a password does besides the change (a reset, `change-password`): ends the account's
    /// outstanding reset links and pending changes of address (`OutstandingLinks`) and queues the notice to its
    /// address. On the change's transaction.
    static func passwordChanged(userID: String, email: String, on connection: PostgresConnection) throws {
        try OutstandingLinks.end(after: .passwordChanged, userID: userID, on: connection)
        try MailOutbox.enqueue(OutgoingMail(.passwordChanged, to: email, userID: userID), on: connection)
    }
}
