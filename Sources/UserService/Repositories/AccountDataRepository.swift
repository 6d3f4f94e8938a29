import Postgres

/// The SQL behind `/api/v1/users/me/stats` and `/export`: what the service holds about one account, read without
/// any secret (no password hash, no token hash).
struct AccountDataRepository {
    let database: Database

    struct Counts {
        let accountAgeDays: Int
        /// `login_success` events still held (security events are kept `SECURITY_EVENT_RETENTION_DAYS`).
        let logins: Int
        let liveSessions: Int
    }

    /// One round trip.
    static let counts = PreparedStatement("account_counts", """
        SELECT floor(extract(epoch FROM now() - u.created_at) / 86400)::int,
               (SELECT count(*) FROM security_events e WHERE e.user_id = u.id AND e.type = 'login_success'
                  AND e.created_at > now() - make_interval(days => $2))::int,
               (SELECT count(*) FROM user_sessions s
                WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > now())::int
        FROM users u WHERE u.id = $1
        """)

    /// Logins are counted over the last `loginWindowDays` (the events' retention), whether or not cleanup has run.
    func counts(userID: String, loginWindowDays: Int) throws -> Counts? {
        try database.withConnection(retry: true) { connection in
            guard let row = try connection.query(Self.counts, [userID, loginWindowDays]).first else { return nil }
            guard let age = try row.int(0), let logins = try row.int(1), let live = try row.int(2) else {
                throw PostgresError(kind: .decoding)
            }
            return Counts(accountAgeDays: age, logins: logins, liveSessions: live)
        }
    }

    /// The most sessions and events an export holds (the newest): an export costs memory and time in proportion to
    /// them, and each export adds an event of its own.
    static let exportLimit = 10_000

    struct History {
        /// The snapshot's time.
        let at: PostgresTimestamp
        let profile: ProfileRecord?
        let preferences: PreferencesRecord?
        let sessions: [SessionRepository.SessionInfo]
        let events: [SecurityEventRepository.EventRecord]
    }

    /// The account's profile, preferences, sessions and security events (the newest `exportLimit` of each), newest
    /// first, read in one snapshot.
    func history(userID: String) throws -> History {
        try database.withConnection(retry: true) { connection in
            try connection.transaction { connection in
                try connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                guard let at = try connection.query("SELECT now()").first?.timestamp(0) else { throw PostgresError(kind: .decoding) }
                let profile = try connection.query(ProfileRepository.byUser, [userID]).first.map(ProfileRecord.init)
                let preferences = try connection.query(PreferencesRepository.byUser, [userID]).first.map(PreferencesRecord.init)
                let sessions = try connection.query("""
                    SELECT \(SessionRepository.SessionInfo.columns) FROM user_sessions
                    WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2
                    """, [userID, Self.exportLimit]).rows.map(SessionRepository.SessionInfo.init)
                let events = try connection.query("""
                    SELECT id, type, ip_address, user_agent, created_at FROM security_events WHERE user_id = $1
                    ORDER BY created_at DESC, id DESC LIMIT $2
                    """, [userID, Self.exportLimit]).rows.map(SecurityEventRepository.EventRecord.init)
                return History(at: at, profile: profile, preferences: preferences, sessions: sessions, events: events)
            }
        }
    }
}
