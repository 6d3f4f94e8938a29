import Postgres

/// The outbox in `/metrics`: the queue's depth and its oldest mail's age, read from `mail_outbox` (gauges), and
/// what the mailers did, read from `mail_delivery_counters` (counters that cleanup never lowers). Each scrape costs
/// the same whatever the backlog: the pending mails are counted up to `pendingCountCap` and the oldest is the first
/// entry of an index (mail_outbox_pending_created). The mailers are other processes, so nothing here lives in the
/// pool's shared counters.
struct MailMetrics: Equatable {
    struct Counts: Equatable {
        var sent = 0
        var sendFailures = 0
        var givenUp = 0
        var expired = 0
    }

    /// A backlog larger than this is reported as this: far past any alert threshold, and cheap to count.
    static let pendingCountCap = 10_000

    var pending = 0
    var oldestPendingAgeSeconds = 0.0
    var counts: [OutgoingMail.Kind: Counts] = [:]

    static let pendingSQL = PreparedStatement("mail_metrics_pending", """
        SELECT (SELECT count(*) FROM (SELECT FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL LIMIT \(pendingCountCap)) AS capped),
               coalesce(extract(epoch FROM now() - (SELECT created_at FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL
                                                    ORDER BY created_at LIMIT 1)), 0)
        """)
    static let countsSQL = PreparedStatement("mail_metrics_counts",
        "SELECT kind, sent, send_failures, given_up, expired FROM mail_delivery_counters")

    static func read(_ connection: PostgresConnection) throws -> MailMetrics {
        var metrics = MailMetrics()
        if let row = try connection.query(pendingSQL).first {
            metrics.pending = try row.int(0) ?? 0
            metrics.oldestPendingAgeSeconds = max(0, try row.double(1) ?? 0)
        }
        for row in try connection.query(countsSQL).rows {
            guard let kind = OutgoingMail.Kind(rawValue: try row.requiredString(0)) else { continue }
            metrics.counts[kind] = Counts(sent: try row.int(1) ?? 0, sendFailures: try row.int(2) ?? 0,
                                          givenUp: try row.int(3) ?? 0, expired: try row.int(4) ?? 0)
        }
        return metrics
    }

    /// Prometheus text, every kind listed (0 before its first mail).
    var rendered: String {
        var out = "# HELP user_service_mail_outbox_pending Mails waiting in the outbox: not yet sent, given up or dropped"
            + " (counted up to \(Self.pendingCountCap)).\n"
        out += "# TYPE user_service_mail_outbox_pending gauge\nuser_service_mail_outbox_pending \(pending)\n"
        out += "# HELP user_service_mail_outbox_oldest_pending_age_seconds Age of the oldest mail waiting; 0 when none waits.\n"
        out += "# TYPE user_service_mail_outbox_oldest_pending_age_seconds gauge\n"
        out += "user_service_mail_outbox_oldest_pending_age_seconds \(oldestPendingAgeSeconds)\n"
        let series: [(String, String, KeyPath<Counts, Int>)] = [
            ("user_service_mail_sent_total", "Mails the relay accepted, by kind.", \.sent),
            ("user_service_mail_send_failures_total", "Attempts to send a mail that failed, by kind.", \.sendFailures),
            ("user_service_mail_given_up_total", "Mails given up after their last attempt, or that could not be built, by kind.", \.givenUp),
            ("user_service_mail_expired_total", "Mails dropped unsent because their token expired first, by kind.", \.expired),
        ]
        for (name, help, value) in series {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n"
            for kind in OutgoingMail.Kind.allCases {
                out += "\(name){kind=\"\(kind.rawValue)\"} \((counts[kind] ?? Counts())[keyPath: value])\n"
            }
        }
        return out
    }
}
