import Postgres

/// The SQL for the security-event log, and its counters in `/metrics` (none from the command line).
struct SecurityEventRepository {
    let database: Database
    let metrics: ServiceMetrics?

    static let insertSQL = "INSERT INTO security_events (user_id, type, ip_address, user_agent, actor_id) VALUES ($1, $2, $3, $4, $5)"

    /// Records `event` on `connection` (inside the caller's transaction) and counts it once that commits.
    func record(_ event: SecurityEvent, on connection: PostgresConnection) throws {
        try connection.query(Self.insertSQL, [event.userID, event.kind.rawValue, event.ipAddress, event.userAgent, event.actorID])
    }

    /// Records an event that stands alone (a failed or throttled login).
    func record(_ event: SecurityEvent) throws {
        try database.withConnection { try record(event, on: $0) }
        counted(event)
    }

    func counted(_ event: SecurityEvent) { metrics?.recordSecurityEvent(event.kind.metricsIndex) }

    struct EventRecord {
        let id: Int
        let type: String
        let ipAddress: String?
        let userAgent: String?
        let createdAt: PostgresTimestamp

        static let example = EventRecord(id: 1, type: "login_success", ipAddress: "127.0.0.1", userAgent: "curl/7.88.1",
                                         createdAt: PostgresTimestamp(microsecondsSinceEpoch: 0))

        init(id: Int, type: String, ipAddress: String?, userAgent: String?, createdAt: PostgresTimestamp) {
            self.id = id
            self.type = type
            self.ipAddress = ipAddress
            self.userAgent = userAgent
            self.createdAt = createdAt
        }

        /// From the columns `id, type, ip_address, user_agent, created_at`.
        init(_ row: PostgresRow) throws {
            guard let id = try row.int(0), let created = try row.timestamp(4) else { throw PostgresError(kind: .decoding) }
            self.init(id: id, type: try row.requiredString(1), ipAddress: row.string(2), userAgent: row.string(3), createdAt: created)
        }
    }

    struct Page {
        let events: [EventRecord]
        let total: Int
    }

    func page(userID: String, limit: Int, offset: Int) throws -> Page {
        try database.withConnection(retry: true) { connection in
            let total = try connection.query("SELECT count(*) FROM security_events WHERE user_id = $1", [userID]).first?.int(0) ?? 0
            let events = try connection.query("""
                SELECT id, type, ip_address, user_agent, created_at FROM security_events WHERE user_id = $1
                ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3
                """, [userID, limit, offset]).rows.map(EventRecord.init)
            return Page(events: events, total: total)
        }
    }
}
