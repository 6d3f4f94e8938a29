public import Postgres

/// `user-service cleanup`: deletes what no request needs any more (and mail that left the outbox long ago), in bounded batches so that it can run
/// while the pool serves (each batch is its own short statement; rows another transaction holds are skipped).
public struct Cleanup {
    public struct Report: Equatable {
        public var sessions = 0
        public var refreshTokens = 0
        /// Login throttle counters and ended windows of the per-account and per-address limits (`AccountWindowLimit`).
        public var throttleCounters = 0
        public var securityEvents = 0
        /// Sent, given-up and dropped mail (`MAIL_RETENTION_DAYS`).
        public var mails = 0
        /// Password-reset and email-verification tokens.
        public var mailTokens = 0

        public var description: String {
            "removed \(sessions) sessions, \(refreshTokens) refresh tokens, \(throttleCounters) throttle counters, \(securityEvents) security events, "
                + "\(mailTokens) reset and verification tokens, \(mails) mails"
        }
    }

    let connection: PostgresConnection
    let configuration: Configuration

    public init(connection: PostgresConnection, configuration: Configuration) {
        self.connection = connection
        self.configuration = configuration
    }

    /// Each statement deletes at most `$1` rows; `$2` is the retention in days (the throttle's window in seconds).
    static let refreshTokens = spentTokens("refresh_tokens")
    static let sessions = """
        DELETE FROM user_sessions WHERE id IN (
            SELECT id FROM user_sessions
            WHERE revoked_at < now() - make_interval(days => $2) OR expires_at < now() - make_interval(days => $2)
            LIMIT $1 FOR UPDATE SKIP LOCKED)
        """
    static let throttleCounters = """
        DELETE FROM login_throttle WHERE identifier IN (
            SELECT identifier FROM login_throttle
            WHERE updated_at < now() - make_interval(secs => $2) AND (blocked_until IS NULL OR blocked_until < now())
            LIMIT $1 FOR UPDATE SKIP LOCKED)
        """
    static let securityEvents = """
        DELETE FROM security_events WHERE id IN (
            SELECT id FROM security_events WHERE created_at < now() - make_interval(days => $2)
            LIMIT $1 FOR UPDATE SKIP LOCKED)
        """

    /// Mail sent, given up or dropped before the retention; pending mail is never touched. The delivery counters
    /// (`mail_delivery_counters`) are left as they are: Prometheus counters never go down.
    static let mails = """
        DELETE FROM mail_outbox WHERE id IN (
            SELECT id FROM mail_outbox
            WHERE (sent_at IS NOT NULL OR failed_at IS NOT NULL) AND coalesce(sent_at, failed_at) < now() - make_interval(days => $2)
            LIMIT $1 FOR UPDATE SKIP LOCKED)
        """
    /// Tokens (refresh, reset, verification) used, revoked or expired longer ago than the retention. `table` is
    /// this file's constant, never input.
    static func spentTokens(_ table: String) -> String {
        """
        DELETE FROM \(table) WHERE id IN (
            SELECT id FROM \(table)
            WHERE used_at < now() - make_interval(days => $2) OR revoked_at < now() - make_interval(days => $2)
               OR expires_at < now() - make_interval(days => $2)
            LIMIT $1 FOR UPDATE SKIP LOCKED)
        """
    }

    public func run() throws -> Report {
        var report = Report()
        report.refreshTokens = try deleteInBatches(Self.refreshTokens, age: configuration.cleanupRetentionDays)
        report.sessions = try deleteInBatches(Self.sessions, age: configuration.cleanupRetentionDays)
        report.throttleCounters = try deleteInBatches(Self.throttleCounters, age: configuration.loginThrottleWindowSeconds)
            + AccountWindowLimit.all.reduce(0) { removed, counter in
                removed + (try deleteInBatches(counter.endedWindows, age: counter.windowSeconds))
            }
        report.securityEvents = try deleteInBatches(Self.securityEvents, age: configuration.securityEventRetentionDays)
        report.mails = try deleteInBatches(Self.mails, age: configuration.mail.retentionDays)
        report.mailTokens = try deleteInBatches(Self.spentTokens("password_resets"), age: configuration.cleanupRetentionDays)
            + deleteInBatches(Self.spentTokens("email_verifications"), age: configuration.cleanupRetentionDays)
        return report
    }

    private func deleteInBatches(_ sql: String, age: Int) throws -> Int {
        var total = 0
        while true {
            let deleted = try connection.query(sql, [configuration.cleanupBatchSize, age]).affectedRows
            total += deleted
            if deleted < configuration.cleanupBatchSize { return total }
        }
    }
}
