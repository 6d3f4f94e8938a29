import HTTP
import Postgres

/// The SQL of the administration API (`/api/v1/admin/users`): listing and reading accounts, and the actions, each
/// one transaction with its security event naming the administrator (`actorID`) and the user acted on.
///
/// **The last active administrator.** Deactivating, demoting or deleting a user first locks every active
/// administrator's row (`lockActiveAdministrators`, in id order, so two such transactions wait for each other
/// instead of deadlocking, and before any other row: users first, as every writer takes them), then refuses when
/// the user is the only one left. Two administrators demoting each other at once: the second waits for the first's
/// locks, re-reads the rows (READ COMMITTED re-checks a locked row that changed), finds itself alone and answers 409.
/// A user who becomes an administrator meanwhile is not counted, which can only refuse, never leave none.
struct AdminRepository {
    let database: Database
    let events: SecurityEventRepository
    let sessions: SessionRepository

    /// The 409 for a change that would leave no active administrator (`DELETE /users/me` answers it too).
    struct LastAdministrator: DetailedError {
        static let message = "The last active administrator cannot be deactivated, demoted or deleted"
        var status: HTTPStatus { .conflict }
        var headers: [(String, String)] { [] }
        var detail: JSONValue { .string(Self.message) }
    }

    static let lockActiveAdministrators = PreparedStatement("admin_lock_active_administrators", """
        SELECT id FROM users WHERE is_admin AND is_active ORDER BY id FOR NO KEY UPDATE
        """)

    /// Inside a transaction, before anything else is locked: locks the active administrators' rows and throws
    /// `LastAdministrator` when `userID` is the only one. Held until the transaction ends.
    static func protectLastAdministrator(_ userID: String, on connection: PostgresConnection) throws {
        let administrators = try connection.query(lockActiveAdministrators).rows.map { try $0.requiredString(0) }
        if administrators == [userID] { throw LastAdministrator() }
    }

    // MARK: reading

    struct Page {
        let users: [UserRecord]
        let total: Int
    }

    /// Every filter is NULL when not given. `$7` is a LIKE pattern (its wildcards escaped).
    private static let filters = """
        FROM users u
        WHERE ($1::boolean IS NULL OR u.is_active = $1)
          AND ($2::boolean IS NULL OR u.is_verified = $2)
          AND ($3::boolean IS NULL OR coalesce(u.premium_expires_at > now(), false) = $3)
          AND ($4::boolean IS NULL OR u.is_admin = $4)
          AND ($5::timestamptz IS NULL OR u.created_at >= $5)
          AND ($6::timestamptz IS NULL OR u.created_at < $6)
          AND ($7::text IS NULL OR u.email ILIKE $7 OR u.username ILIKE $7 OR u.full_name ILIKE $7)
        """

    func list(_ query: AdminUsersQuery) throws -> Page {
        let pattern = query.text.map { "%" + Self.escapeLike($0) + "%" }
        let parameters: [(any PostgresBindable)?] = [query.active, query.verified, query.premium, query.admin,
                                                     query.createdAfter?.text, query.createdBefore?.text, pattern]
        return try database.withConnection(retry: true) { connection in
            let total = try connection.query("SELECT count(*) \(Self.filters)", parameters).first?.int(0) ?? 0
            let users = try connection.query("""
                SELECT \(UserRecord.columns) \(Self.filters) ORDER BY u.created_at DESC, u.id DESC LIMIT $8 OFFSET $9
                """, parameters + [query.limit, query.offset]).rows.map { try UserRecord($0) }
            return Page(users: users, total: total)
        }
    }

    /// `%`, `_` and the escape character itself (`\`, LIKE's default) match only themselves.
    static func escapeLike(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    static let byID = PreparedStatement("admin_user_by_id", "SELECT \(UserRecord.columns) FROM users u WHERE u.id = $1")

    func find(userID: String) throws -> UserRecord? {
        try database.withConnection(retry: true) { connection in
            try connection.query(Self.byID, [userID]).first.map { try UserRecord($0) }
        }
    }

    /// A security event with its actor.
    struct Event {
        let id: Int
        let type: String
        let actorID: String?
        let ipAddress: String?
        let userAgent: String?
        let createdAt: PostgresTimestamp

        static let example = Event(id: 1, type: "admin_verified", actorID: UserRecord.example.id, ipAddress: "127.0.0.1",
                                   userAgent: "curl/7.88.1", createdAt: PostgresTimestamp(microsecondsSinceEpoch: 0))
    }

    func recentEvents(userID: String, limit: Int) throws -> [Event] {
        try database.withConnection(retry: true) { connection in
            try connection.query("""
                SELECT id, type, actor_id, ip_address, user_agent, created_at FROM security_events WHERE user_id = $1
                ORDER BY created_at DESC, id DESC LIMIT $2
                """, [userID, limit]).rows.map { row in
                guard let id = try row.int(0), let created = try row.timestamp(5) else { throw PostgresError(kind: .decoding) }
                return Event(id: id, type: try row.requiredString(1), actorID: row.string(2), ipAddress: row.string(3),
                             userAgent: row.string(4), createdAt: created)
            }
        }
    }

    // MARK: actions

    enum Action {
        case activate, deactivate, verify, unverify, promote, demote
        case grantPremium(plan: String, end: GrantPremiumRequest.End)
        case endPremium

        var eventKind: SecurityEvent.Kind {
            switch self {
            case .activate: .adminActivated
            case .deactivate: .adminDeactivated
            case .verify: .adminVerified
            case .unverify: .adminUnverified
            case .promote: .adminPromoted
            case .demote: .adminDemoted
            case .grantPremium: .adminPremiumGranted
            case .endPremium: .adminPremiumEnded
            }
        }

        /// Whether it can leave no active administrator.
        var removesAdministrator: Bool {
            switch self {
            case .deactivate, .demote: true
            default: false
            }
        }
    }

    /// `endPremium` on an account that is not premium (nothing to end).
    struct NotPremium: Error {}

    /// The user's flags, its row locked for the change.
    static let lockTarget = PreparedStatement("admin_lock_target", """
        SELECT is_active, is_verified, is_admin, coalesce(premium_expires_at > now(), false) FROM users WHERE id = $1
        FOR NO KEY UPDATE
        """)

    /// Applies `action` to the user, revoking every session at once when it deactivates, and records its event
    /// (`actorID`: the administrator) — in one transaction, and only when something changes (repeating an action
    /// is answered the same and records nothing more). The user afterwards; nil when there is no such user.
    /// Throws `LastAdministrator` (deactivate, demote) or `NotPremium` (end premium).
    func apply(_ action: Action, userID: String, actorID: String, request: HTTPRequest) throws -> UserRecord? {
        let event = SecurityEvent(action.eventKind, userID: userID, actorID: actorID, request: request)
        let outcome = try database.transaction { connection -> (UserRecord, changed: Bool)? in
            if action.removesAdministrator { try Self.protectLastAdministrator(userID, on: connection) }
            guard let row = try connection.query(Self.lockTarget, [userID]).first else { return nil }
            let isActive = try row.bool(0) ?? false, isVerified = try row.bool(1) ?? false
            let isAdmin = try row.bool(2) ?? false, isPremium = try row.bool(3) ?? false
            let change: (set: String, parameters: [(any PostgresBindable)?])?
            switch action {
            case .activate: change = isActive ? nil : ("is_active = true", [])
            case .deactivate: change = isActive ? ("is_active = false", []) : nil
            case .verify: change = isVerified ? nil : ("is_verified = true", [])
            case .unverify: change = isVerified ? ("is_verified = false", []) : nil
            case .promote: change = isAdmin ? nil : ("is_admin = true", [])
            case .demote: change = isAdmin ? ("is_admin = false", []) : nil
            case .grantPremium(let plan, let end):
                switch end {
                case .planPeriod:
                    change = ("premium_plan = $2, premium_expires_at = now() + CASE $2 WHEN 'yearly' THEN interval '1 year' ELSE interval '1 month' END",
                              [plan])
                case .days(let days): change = ("premium_plan = $2, premium_expires_at = now() + make_interval(days => $3)", [plan, days])
                case .at(let timestamp): change = ("premium_plan = $2, premium_expires_at = $3::timestamptz", [plan, timestamp.text])
                }
            case .endPremium:
                guard isPremium else { throw NotPremium() }
                change = ("premium_plan = NULL, premium_expires_at = NULL", [])
            }
            if let change {
                try connection.query("UPDATE users SET \(change.set), updated_at = now() WHERE id = $1", [userID] + change.parameters)
                // The user's row is locked above: users first, then sessions, as every writer of sessions takes them.
                if case .deactivate = action { _ = try sessions.revoke(userID: userID, .all, on: connection) }
                try events.record(event, on: connection)
            }
            guard let user = try connection.query(Self.byID, [userID]).first else { throw PostgresError(kind: .decoding) }
            return (try UserRecord(user), change != nil)
        }
        guard let outcome else { return nil }
        if outcome.changed { events.counted(event) }
        return outcome.0
    }

    /// Revokes every live session of the user and their refresh tokens, recording the event when any was live, in
    /// one transaction. How many were live; nil when there is no such user.
    func revokeSessions(userID: String, actorID: String, request: HTTPRequest) throws -> Int? {
        let event = SecurityEvent(.adminSessionsRevoked, userID: userID, actorID: actorID, request: request)
        let count = try database.transaction { connection -> Int? in
            guard try connection.query(SessionRepository.lockUser, [userID]).first != nil else { return nil }
            let count = try sessions.revoke(userID: userID, .all, on: connection)
            if count > 0 { try events.record(event, on: connection) }
            return count
        }
        if let count, count > 0 { events.counted(event) }
        return count
    }

    static let deleteUser = PreparedStatement("admin_delete_user", "DELETE FROM users WHERE id = $1 RETURNING email, username")

    /// Deletes the account and every row that names it (as `DELETE /users/me` does) and records `admin_deleted`,
    /// anonymised but for its actor, in one transaction. False when there is no such user; throws
    /// `LastAdministrator` when it is the last active administrator.
    func delete(userID: String, actorID: String) throws -> Bool {
        // An administrator deleting their own account: the event cannot name a row that is gone.
        let event = SecurityEvent(anonymised: .adminDeleted, actorID: actorID == userID ? nil : actorID)
        let deleted = try database.transaction { connection -> Bool in
            try Self.protectLastAdministrator(userID, on: connection)
            guard let account = try connection.query(Self.deleteUser, [userID]).first else { return false }
            try connection.query(UserRepository.forgetThrottle, [try account.requiredString(0), try account.requiredString(1)])
            try events.record(event, on: connection)
            return true
        }
        if deleted { events.counted(event) }
        return deleted
    }
}
