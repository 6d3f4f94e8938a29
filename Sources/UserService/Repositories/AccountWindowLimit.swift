import Postgres

/// A per-account limit: at most `limit` actions in a window that starts with the window's first action, counted
/// atomically (one upsert) before the action's work is done. Change-password (`CHANGE_PASSWORD_MAX_PER_HOUR`,
/// successes included: each costs two bcrypt computations) and the directory (`DIRECTORY_MAX_PER_MINUTE`) use it,
/// each with a table of its own (one row per user).
struct AccountWindowLimit {
    struct Counter: Sendable {
        let statement: PreparedStatement
        let windowSeconds: Int
        /// For `user-service cleanup`: deletes at most `$1` rows whose window started more than `$2` seconds ago
        /// (ended: the next action starts a new one), skipping rows another transaction holds.
        let endedWindows: String

        /// `table` and `column` are this file's constants, never input.
        fileprivate init(_ name: String, table: String, column: String, windowSeconds: Int) {
            statement = PreparedStatement(name, """
                INSERT INTO \(table) AS a (user_id, window_started_at, \(column)) VALUES ($1, now(), 1)
                ON CONFLICT (user_id) DO UPDATE SET
                    \(column) = CASE WHEN a.window_started_at <= now() - make_interval(secs => $3) THEN 1
                                     ELSE least(a.\(column) + 1, $2 + 1) END,
                    window_started_at = CASE WHEN a.window_started_at <= now() - make_interval(secs => $3) THEN now()
                                             ELSE a.window_started_at END
                RETURNING CASE WHEN \(column) > $2
                               THEN greatest(1, ceil(extract(epoch FROM window_started_at + make_interval(secs => $3) - now())))::int
                          END
                """)
            self.windowSeconds = windowSeconds
            endedWindows = """
                DELETE FROM \(table) WHERE user_id IN (
                    SELECT user_id FROM \(table) WHERE window_started_at < now() - make_interval(secs => $2)
                    LIMIT $1 FOR UPDATE SKIP LOCKED)
                """
        }
    }

    static let passwordChanges = Counter("password_change_attempt", table: "password_change_attempts", column: "attempts",
                                         windowSeconds: 3600)
    static let directoryRequests = Counter("directory_request", table: "directory_requests", column: "requests", windowSeconds: 60)

    let database: Database
    let counter: Counter
    let limit: Int

    /// Counts an action; returns the seconds until the window ends when it is over the limit, nil otherwise.
    func count(userID: String) throws -> Int? {
        try database.withConnection { connection in
            try connection.query(counter.statement, [userID, limit, counter.windowSeconds]).first?.int(0)
        }
    }
}
