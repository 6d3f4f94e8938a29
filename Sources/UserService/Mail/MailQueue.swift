import Postgres

/// The mailer's side of the outbox: the SQL that moves a mail through its life. Every move is one statement (its
/// own short transaction); a mail's counters (`mail_delivery_counters`, read by `/metrics`) move in the same statement.
///
///     pending ──lease──▶ leased (leased_until, attempts + 1) ──sent──▶ sent (variables blanked)
///        ▲                  │  ├──failed, attempts left──▶ pending again at next_attempt_at
///        └──release─────────┘  └──failed, none left, rejected too often, or the mail cannot be built──▶ failed
///                                                                                      (variables blanked)
///     pending past expires_at ──drop──▶ failed ("expired"), never sent
///
/// A lease that runs out (its mailer died, or lost the database for longer than the lease) makes the mail pending
/// again: no mail stays with a dead mailer, and no two mailers hold one lease (`FOR UPDATE SKIP LOCKED`, then
/// `leased_until` in the future). A release and a failed mark name the lease they end (`leased_until`), so a
/// mailer that comes back late never touches a lease that has passed to another; a sent mark is written whatever
/// the lease (the relay took the mail: it must not be sent again).
enum MailQueue {
    /// A mail leased for sending.
    struct LeasedMail {
        let id: String
        let kind: OutgoingMail.Kind
        let recipient: String
        let token: String?
        let expiresAt: PostgresTimestamp?
        /// Counting this one.
        let attempts: Int
        /// Permanent (5xx) refusals by the relay so far.
        let rejections: Int
        /// As the database wrote it: a release names it, so a lease that passed to another mailer is left alone.
        let leasedUntil: String
        /// The lease's length in seconds from the start of the leasing statement.
        let leaseSeconds: Int
    }

    /// The rows due, oldest first, each leased for `position × slotSeconds + marginSeconds`: the mails later in
    /// the batch wait for those before them, each of which takes at most one slot (one SMTP exchange and its mark).
    static let leaseSQL = """
        WITH batch AS (
            SELECT id, next_attempt_at, created_at FROM mail_outbox
            WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
              AND (leased_until IS NULL OR leased_until <= now()) AND (expires_at IS NULL OR expires_at > now())
            ORDER BY next_attempt_at, created_at
            LIMIT $1
            FOR UPDATE SKIP LOCKED),
        numbered AS (SELECT id, row_number() OVER (ORDER BY next_attempt_at, created_at) AS position FROM batch)
        UPDATE mail_outbox m
        SET leased_until = now() + make_interval(secs => numbered.position * $2 + $3), attempts = m.attempts + 1
        FROM numbered WHERE m.id = numbered.id
        RETURNING m.id, m.kind, m.recipient, m.variables ->> 'token', m.expires_at, m.attempts, m.leased_until,
                  numbered.position * $2 + $3, m.rejections
        """

    static let markSentSQL = """
        WITH sent AS (
            UPDATE mail_outbox SET sent_at = now(), failed_at = NULL, leased_until = NULL, variables = '{}'
            WHERE id = $1 AND sent_at IS NULL
            RETURNING kind)
        INSERT INTO mail_delivery_counters (kind, sent) SELECT kind, 1 FROM sent
        ON CONFLICT (kind) DO UPDATE SET sent = mail_delivery_counters.sent + EXCLUDED.sent
        """

    /// `$3`: seconds until the next attempt, or NULL to give up; `$4`: the lease it ends; `$5`: a permanent refusal.
    static let markFailedSQL = """
        WITH failed AS (
            UPDATE mail_outbox SET last_error = $2, leased_until = NULL,
                rejections = rejections + CASE WHEN $5::boolean THEN 1 ELSE 0 END,
                next_attempt_at = CASE WHEN $3::integer IS NULL THEN next_attempt_at
                                       ELSE now() + make_interval(secs => $3::integer) END,
                failed_at = CASE WHEN $3::integer IS NULL THEN now() END,
                variables = CASE WHEN $3::integer IS NULL THEN '{}'::jsonb ELSE variables END
            WHERE id = $1 AND leased_until = $4::timestamptz AND sent_at IS NULL AND failed_at IS NULL
            RETURNING kind, failed_at IS NOT NULL AS given_up)
        INSERT INTO mail_delivery_counters (kind, send_failures, given_up)
        SELECT kind, 1, CASE WHEN given_up THEN 1 ELSE 0 END FROM failed
        ON CONFLICT (kind) DO UPDATE SET send_failures = mail_delivery_counters.send_failures + EXCLUDED.send_failures,
                                         given_up = mail_delivery_counters.given_up + EXCLUDED.given_up
        """

    /// Back to pending, unsent and the attempt not counted, while the lease is still this mailer's.
    static let releaseSQL = """
        UPDATE mail_outbox SET leased_until = NULL, attempts = attempts - 1
        WHERE id = $1 AND leased_until = $2::timestamptz AND sent_at IS NULL AND failed_at IS NULL
        """

    static let dropExpiredSQL = """
        WITH dropped AS (
            UPDATE mail_outbox SET failed_at = now(), last_error = 'expired before it could be sent', variables = '{}'
            WHERE id IN (
                SELECT id FROM mail_outbox
                WHERE sent_at IS NULL AND failed_at IS NULL AND expires_at <= now()
                  AND (leased_until IS NULL OR leased_until <= now())
                LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING kind),
        counted AS (SELECT kind, count(*) AS dropped FROM dropped GROUP BY kind),
        counters AS (
            INSERT INTO mail_delivery_counters (kind, expired) SELECT kind, dropped FROM counted
            ON CONFLICT (kind) DO UPDATE SET expired = mail_delivery_counters.expired + EXCLUDED.expired)
        SELECT coalesce(sum(dropped), 0) FROM counted
        """

    /// Seconds until the next pending mail is due: the earliest attempt time of an unleased mail, or the earliest
    /// end of a lease (a mail is leased only once due); nil when none is pending. Two index reads that stop at their
    /// first row (mail_outbox_pending, mail_outbox_pending_lease), whatever the backlog.
    static let secondsUntilDueSQL = """
        SELECT extract(epoch FROM least(
            (SELECT next_attempt_at FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND leased_until IS NULL
             ORDER BY next_attempt_at LIMIT 1),
            (SELECT leased_until FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND leased_until IS NOT NULL
             ORDER BY leased_until LIMIT 1)) - now())
        """

    static func lease(_ connection: PostgresConnection, limit: Int, slotSeconds: Int, marginSeconds: Int) throws -> [LeasedMail] {
        try connection.query(leaseSQL, [limit, slotSeconds, marginSeconds]).rows.map { row in
            guard let kind = OutgoingMail.Kind(rawValue: try row.requiredString(1)) else { throw PostgresError(kind: .decoding) }
            return LeasedMail(id: try row.requiredString(0), kind: kind, recipient: try row.requiredString(2), token: row.string(3),
                              expiresAt: try row.timestamp(4), attempts: try row.int(5) ?? 1, rejections: try row.int(8) ?? 0,
                              leasedUntil: try row.requiredString(6), leaseSeconds: try row.int(7) ?? 0)
        }.sorted { $0.leaseSeconds < $1.leaseSeconds }
    }

    static func markSent(_ connection: PostgresConnection, id: String) throws {
        try connection.query(markSentSQL, [id])
    }

    /// Only while `mail`'s lease is still the one it was leased with: a late mark leaves another mailer's alone.
    static func markFailed(_ connection: PostgresConnection, _ mail: LeasedMail, error: String, retryAfterSeconds: Int?,
                           rejected: Bool) throws {
        try connection.query(markFailedSQL, [mail.id, String(error.prefix(500)), retryAfterSeconds, mail.leasedUntil, rejected])
    }

    static func release(_ connection: PostgresConnection, _ mail: LeasedMail) throws {
        try connection.query(releaseSQL, [mail.id, mail.leasedUntil])
    }

    /// How many were dropped.
    static func dropExpired(_ connection: PostgresConnection, limit: Int) throws -> Int {
        try connection.query(dropExpiredSQL, [limit]).first?.int(0) ?? 0
    }

    static func secondsUntilDue(_ connection: PostgresConnection) throws -> Double? {
        try connection.query(secondsUntilDueSQL).first?.double(0)
    }
}
