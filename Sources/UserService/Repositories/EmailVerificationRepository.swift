import Postgres

/// The SQL for email-verification tokens (`email_verifications`, migration 0018): issuing one with its mail (at
/// registration, on request, for a new address), and spending one, which verifies the account's address or moves
/// the account to the new one. Tokens are stored only as SHA-256 (`OpaqueToken`).
struct EmailVerificationRepository {
    let database: Database
    let events: SecurityEventRepository
    let lifetimeHours: Int

    /// A token for address `$3` of account `$1` (`$4`: the address it replaces, for a change); the account's earlier
    /// unused tokens of the same purpose (verifying its address, or changing it) end.
    static let issue = PreparedStatement("email_verification_issue", """
        WITH superseded AS (
            UPDATE email_verifications SET revoked_at = now()
            WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND (replaces_email IS NULL) = ($4::text IS NULL)
        )
        INSERT INTO email_verifications (user_id, token_hash, email, replaces_email, expires_at)
        VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5))
        RETURNING expires_at
        """)

    /// Issues a token for `email` and queues the mail with its link, on the caller's transaction (which created or
    /// locked the account's row, so two requests cannot both leave a live token).
    func issue(userID: String, email: String, replacing: String? = nil, on connection: PostgresConnection) throws {
        let token = try OpaqueToken.generate()
        guard let expiresAt = try connection.query(Self.issue, [userID, PostgresBytes(token.hash), email, replacing, lifetimeHours])
            .first?.timestamp(0)
        else { throw PostgresError(kind: .decoding) }
        try MailOutbox.enqueue(OutgoingMail(.emailVerification, to: email, userID: userID, token: token.token, expiresAt: expiresAt),
                               on: connection)
    }

    static let lockAccount = PreparedStatement("email_verification_lock_account", """
        SELECT email, is_verified FROM users WHERE id = $1 AND is_active FOR NO KEY UPDATE
        """)

    enum RequestOutcome {
        case sent
        case alreadyVerified
        /// The account was deactivated or deleted meanwhile.
        case gone
    }

    /// `POST /verify-email-request`: a fresh link to the account's address, unless it is verified.
    func request(userID: String) throws -> RequestOutcome {
        try database.transaction { connection in
            guard let account = try connection.query(Self.lockAccount, [userID]).first else { return .gone }
            if try account.bool(1) == true { return .alreadyVerified }
            try issue(userID: userID, email: try account.requiredString(0), on: connection)
            return .sent
        }
    }

    /// The account's address, locked, if it still has the password hash just checked (a password change committed
    /// meanwhile wins) and is active.
    static let claimAccount = PreparedStatement("email_change_claim_account", """
        SELECT email FROM users WHERE id = $1 AND hashed_password = $2 AND is_active FOR NO KEY UPDATE
        """)
    static let addressTaken = PreparedStatement("email_change_address_taken", "SELECT 1 FROM users WHERE lower(email) = $1")

    enum ChangeOutcome {
        case sent
        case addressTaken
        /// The password or the account changed meanwhile.
        case superseded
    }

    /// `POST /change-email`: a link to `newEmail` (ending an earlier pending change), the notice to the current
    /// address and `event`, in one transaction. Nothing changes on the account until the link is followed.
    func requestChange(userID: String, to newEmail: String, verifiedHash: String, event: SecurityEvent) throws -> ChangeOutcome {
        let outcome = try database.transaction { connection -> ChangeOutcome in
            guard let current = try connection.query(Self.claimAccount, [userID, verifiedHash]).first?.requiredString(0) else {
                return .superseded
            }
            // Checked again, race-free, when the link is followed (the unique index on lower(email)).
            if try connection.query(Self.addressTaken, [newEmail]).first != nil { return .addressTaken }
            try issue(userID: userID, email: newEmail, replacing: current, on: connection)
            try MailOutbox.enqueue(OutgoingMail(.emailChangeNotice, to: current, userID: userID), on: connection)
            try events.record(event, on: connection)
            return .sent
        }
        if case .sent = outcome { events.counted(event) }
        return outcome
    }

    static let owner = PreparedStatement("email_verification_owner", "SELECT user_id FROM email_verifications WHERE token_hash = $1")
    /// Spends the token, only while its address is the account's (`$3`) or, for a change, while the account still
    /// has the address the change replaces; only one transaction can (the next waited for the account's row).
    static let spend = PreparedStatement("email_verification_spend", """
        UPDATE email_verifications SET used_at = now()
        WHERE token_hash = $1 AND user_id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          AND (email = $3 OR replaces_email = $3)
        RETURNING email
        """)
    static let markVerified = PreparedStatement("email_verification_mark_verified", """
        UPDATE users SET is_verified = true, updated_at = now() WHERE id = $1
        """)
    /// A unique violation (`users_email_key`) when the address was taken since the change was asked for: a 409.
    static let moveAddress = PreparedStatement("email_change_move_address", """
        UPDATE users SET email = $2, is_verified = true, updated_at = now() WHERE id = $1
        """)

    enum VerifyOutcome {
        case verified
        case changed
        /// Unknown, used, superseded or expired, for an address that is no longer the account's, or of an inactive account.
        case invalid
    }

    /// `POST /verify-email`: spends `token`, then marks the address verified or, for a change, moves the account
    /// to the new address (verified), ends its other verification and reset links, and records the event (made by
    /// `event` for the account and the kind), in one transaction. The account's row is locked before the token's,
    /// the order every writer of an account's rows takes.
    func verify(token: String, event: (_ userID: String, _ kind: SecurityEvent.Kind) -> SecurityEvent) throws -> VerifyOutcome {
        let hash = PostgresBytes(try OpaqueToken.hash(token))
        let (outcome, recorded) = try database.transaction { connection -> (VerifyOutcome, SecurityEvent?) in
            guard let userID = try connection.query(Self.owner, [hash]).first?.requiredString(0),
                  let current = try connection.query(Self.lockAccount, [userID]).first?.requiredString(0),
                  let address = try connection.query(Self.spend, [hash, userID, current]).first?.requiredString(0)
            else { return (.invalid, nil) }
            let outcome: VerifyOutcome
            if address == current {
                try connection.query(Self.markVerified, [userID])
                outcome = .verified
            } else {
                try connection.query(Self.moveAddress, [userID, address])
                try OutstandingLinks.end(after: .addressChanged, userID: userID, on: connection)
                outcome = .changed
            }
            let recorded = event(userID, outcome == .changed ? .emailChanged : .emailVerified)
            try events.record(recorded, on: connection)
            return (outcome, recorded)
        }
        if let recorded { events.counted(recorded) }
        return outcome
    }
}
