import Postgres

/// A per-account limit: at most `limit` actions in a window that starts with the window's first action, counted
/// atomically (one upsert) before the action's work is done. Change-password (`CHANGE_PASSWORD_MAX_PER_HOUR`,
/// successes included: each costs two bcrypt computations), the directory (`DIRECTORY_MAX_PER_MINUTE`), and the
/// routes that mail a link on demand (`VERIFY_EMAIL_MAX_PER_HOUR`, `CHANGE_EMAIL_MAX_PER_HOUR`) use it, each with
/// rows of its own. The same counter, keyed by an address instead of an account, is the per-address limit of
/// password-reset requests (`PASSWORD_RESET_MAX_PER_HOUR`, counted inside the request's transaction).
struct AccountWindowLimit {
    /// What one counter's rows are keyed by. Every part is this file's constant, never input.
    struct Key: Sendable {
        /// The columns of the counter's unique key, and the values inserted into them (`$1` is the key).
        let columns: String
        let values: String
        /// The column that names one row, for cleanup.
        let row: String

        /// One row per account: `user_id` is the primary key.
        static let account = Key(columns: "user_id", values: "$1", row: "user_id")
        /// One row per account and purpose, in a table that several counters share.
        static func account(purpose: String) -> Key { Key(columns: "user_id, purpose", values: "$1, '\(purpose)'", row: "id") }
        /// One row per address: `address_hash`, the SHA-256 of the normalised address, is the primary key.
        static let address = Key(columns: "address_hash", values: "$1", row: "address_hash")
    }

    struct Counter: Sendable {
        let statement: PreparedStatement
        let windowSeconds: Int
        /// For `user-service cleanup`: deletes at most `$1` rows whose window started more than `$2` seconds ago
        /// (ended: the next action starts a new one), skipping rows another transaction holds.
        let endedWindows: String

        /// `table`, `key` and `column` are this file's constants, never input.
        fileprivate init(_ name: String, table: String, key: Key = .account, column: String, windowSeconds: Int) {
            statement = PreparedStatement(name, """
                INSERT INTO \(table) AS a (\(key.columns), window_started_at, \(column)) VALUES (\(key.values), now(), 1)
                ON CONFLICT (\(key.columns)) DO UPDATE SET
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
                DELETE FROM \(table) WHERE \(key.row) IN (
                    SELECT \(key.row) FROM \(table) WHERE window_started_at < now() - make_interval(secs => $2)
                    LIMIT $1 FOR UPDATE SKIP LOCKED)
                """
        }

        /// Counts an action for `key` on the caller's connection (inside a transaction the row stays locked until it
        /// ends); returns the seconds until the window ends when it is over `limit`, nil otherwise.
        func count(_ key: any PostgresBindable, limit: Int, on connection: PostgresConnection) throws -> Int? {
            try connection.query(statement, [key, limit, windowSeconds]).first?.int(0)
        }
    }

    static let passwordChanges = Counter("password_change_attempt", table: "password_change_attempts", column: "attempts",
                                         windowSeconds: 3600)
    static let directoryRequests = Counter("directory_request", table: "directory_requests", column: "requests", windowSeconds: 60)
    static let verificationRequests = Counter("verification_mail_request", table: "mail_link_requests",
                                              key: .account(purpose: "verify_email"), column: "requests", windowSeconds: 3600)
    static let addressChangeRequests = Counter("address_change_mail_request", table: "mail_link_requests",
                                               key: .account(purpose: "change_email"), column: "requests", windowSeconds: 3600)
    static let passwordResetRequests = Counter("password_reset_request", table: "password_reset_requests", key: .address,
                                               column: "requests", windowSeconds: 3600)
    /// Every counter, for `user-service cleanup`.
    static let all = [passwordChanges, directoryRequests, verificationRequests, addressChangeRequests, passwordResetRequests]

    let database: Database
    let counter: Counter
    let limit: Int

    /// Counts an action; returns the seconds until the window ends when it is over the limit, nil otherwise.
    func count(userID: String) throws -> Int? {
        try database.withConnection { connection in try counter.count(userID, limit: limit, on: connection) }
    }
}
