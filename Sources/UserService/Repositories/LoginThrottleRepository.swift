import Postgres

/// Per-identifier login throttling, against guessing spread over many client addresses.
///
/// Each attempt is counted atomically *before* the password is checked, keyed on the normalised identifier
/// whether or not an account has it. The first `limit` attempts in a round go through; the next one starts a
/// block of `baseDelay × 2^lockouts` seconds (capped at `maxDelay`), during which every attempt is refused, even
/// with the right password. When the block ends a new round of `limit` attempts begins; a success resets it all,
/// and so do `window` seconds without an attempt.
struct LoginThrottleRepository {
    let database: Database
    let limit: Int
    let baseDelay: Int
    let maxDelay: Int
    let window: Int

    static let attempt = PreparedStatement("throttle_attempt", """
        INSERT INTO login_throttle AS t (identifier, attempts, updated_at) VALUES ($1, 1, now())
        ON CONFLICT (identifier) DO UPDATE SET
            attempts = CASE WHEN t.blocked_until > now() THEN t.attempts
                            WHEN t.updated_at < now() - make_interval(secs => $5) THEN 1
                            WHEN t.attempts + 1 > $2 THEN 0
                            ELSE t.attempts + 1 END,
            lockouts = CASE WHEN t.blocked_until > now() THEN t.lockouts
                            WHEN t.updated_at < now() - make_interval(secs => $5) THEN 0
                            WHEN t.attempts + 1 > $2 THEN t.lockouts + 1
                            ELSE t.lockouts END,
            blocked_until = CASE WHEN t.blocked_until > now() THEN t.blocked_until
                            WHEN t.updated_at >= now() - make_interval(secs => $5) AND t.attempts + 1 > $2
                                THEN now() + make_interval(secs => least($3::float8 * power(2, least(t.lockouts, 30)), $4))
                            ELSE NULL END,
            updated_at = CASE WHEN t.blocked_until > now() THEN t.updated_at ELSE now() END
        RETURNING CASE WHEN blocked_until > now()
                       -- The wall clock, not this transaction's start: a parallel attempt that began before the block
                       -- was set (and waited for the row) must not announce more than the block's own length.
                       THEN greatest(1, ceil(extract(epoch FROM blocked_until - clock_timestamp())))::int END
        """)

    /// Counts an attempt; returns the seconds to wait when it is refused, nil when it may be checked.
    func attempt(_ identifier: String) throws -> Int? {
        try database.withConnection { connection in
            try connection.query(Self.attempt, [Self.key(identifier), limit, baseDelay, maxDelay, window]).first?.int(0)
        }
    }

    static let delete = PreparedStatement("throttle_delete", "DELETE FROM login_throttle WHERE identifier = $1 OR identifier = $2")

    func reset(_ identifier: String) throws {
        try database.withConnection { try $0.query(Self.delete, [Self.key(identifier), nil]) }
    }

    /// Clears an account's counters, by both identifiers a login can type, on the caller's connection (inside the
    /// transaction of a password reset).
    static func clear(email: String, username: String, on connection: PostgresConnection) throws {
        try connection.query(delete, [key(email), key(username.lowercased())])
    }

    /// The identifier as stored: at most the column's 320 code points (lower-casing can lengthen what was typed:
    /// "İ" becomes two), so no login fails on the throttle's own limit.
    private static func key(_ identifier: String) -> String { identifier.prefix(codePoints: 320) }
}
