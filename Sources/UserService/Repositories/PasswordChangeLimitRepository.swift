import Postgres

/// The per-account limit on change-password: at most `limit` attempts, successful or not, in a one-hour window
/// that starts with the window's first attempt. Counted atomically before any password is checked.
struct PasswordChangeLimitRepository {
    static let windowSeconds = 3600

    let database: Database
    let limit: Int

    static let attempt = PreparedStatement("password_change_attempt", """
        INSERT INTO password_change_attempts AS a (user_id, window_started_at, attempts) VALUES ($1, now(), 1)
        ON CONFLICT (user_id) DO UPDATE SET
            attempts = CASE WHEN a.window_started_at <= now() - make_interval(secs => $3) THEN 1
                            ELSE least(a.attempts + 1, $2 + 1) END,
            window_started_at = CASE WHEN a.window_started_at <= now() - make_interval(secs => $3) THEN now()
                                     ELSE a.window_started_at END
        RETURNING CASE WHEN attempts > $2
                       THEN greatest(1, ceil(extract(epoch FROM window_started_at + make_interval(secs => $3) - now())))::int
                  END
        """)

    /// Counts an attempt; returns the seconds until the window ends when it is over the limit, nil otherwise.
    func attempt(userID: String) throws -> Int? {
        try database.withConnection { connection in
            try connection.query(Self.attempt, [userID, limit, Self.windowSeconds]).first?.int(0)
        }
    }
}
