import HTTP
import Postgres

/// What an administrator does to accounts, and its SQL — the one implementation behind the administration API
/// (`/api/v1/admin/users`, `AdminController`) and the command line (`user-service users`, through
/// `AccountAdministration`): listing and reading accounts, and the actions, each one transaction with its security
/// event naming the user acted on and the administrator (`Actor`: their id and request through the API, nobody from
/// the command line). An action that changes nothing records nothing.
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

    static let isActiveAdministrator = PreparedStatement("admin_is_active_administrator", """
        SELECT 1 FROM users WHERE id = $1 AND is_admin AND is_active
        """)

    /// Inside a transaction, before anything else is locked: locks the active administrators' rows (held until the
    /// transaction ends), then refuses an acting administrator who is no longer one (403: a request that passed the
    /// session check before a demotion committed must not act after it) and throws `LastAdministrator` when
    /// `protecting` is the only one left. Without an acting administrator and with nobody to protect who is one
    /// now, nothing is locked: an ordinary account's deletion does not wait on every administrator.
    static func lockAdministrators(actorID: String?, protecting target: String?, on connection: PostgresConnection) throws {
        if actorID == nil {
            guard let target, try connection.query(isActiveAdministrator, [target]).first != nil else { return }
        }
        let administrators = try connection.query(lockActiveAdministrators).rows.map { try $0.requiredString(0) }
        if let actorID, !administrators.contains(actorID) { throw APIError(.forbidden, "Administrator privileges required") }
        if let target, administrators == [target] { throw LastAdministrator() }
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

    /// Newest first (the API), or oldest first (the command line's `users list`).
    func list(_ query: AdminUsersQuery, oldestFirst: Bool = false) throws -> Page {
        let pattern = query.text.map { "%" + Self.escapeLike($0) + "%" }
        let parameters: [(any PostgresBindable)?] = [query.active, query.verified, query.premium, query.admin,
                                                     query.createdAfter?.text, query.createdBefore?.text, pattern]
        let direction = oldestFirst ? "ASC" : "DESC"
        return try database.withConnection(retry: true) { connection in
            let total = try connection.query("SELECT count(*) \(Self.filters)", parameters).first?.int(0) ?? 0
            let users = try connection.query("""
                SELECT \(UserRecord.columns) \(Self.filters) ORDER BY u.created_at \(direction), u.id \(direction) LIMIT $8 OFFSET $9
                """, parameters + [query.limit, query.offset]).rows.map { try UserRecord($0) }
            return Page(users: users, total: total)
        }
    }

    /// `%`, `_` and the escape character itself (`\`, LIKE's default) match only themselves.
    static func escapeLike(_ text: String) -> String {
        // Code points, as PostgreSQL reads the pattern: "%" with a combining mark after it is one Swift character.
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\\" || scalar == "%" || scalar == "_" { out.append("\\") }
            out.append(scalar)
        }
        return String(out)
    }

    static let byID = PreparedStatement("admin_user_by_id", "SELECT \(UserRecord.columns) FROM users u WHERE u.id = $1")

    static let byEmail = PreparedStatement("admin_user_by_email", """
        SELECT \(UserRecord.columns) FROM users u WHERE lower(u.email) = lower($1)
        """)

    func find(userID: String) throws -> UserRecord? {
        try database.withConnection(retry: true) { connection in
            try connection.query(Self.byID, [userID]).first.map { try UserRecord($0) }
        }
    }

    /// The account with `email`, in any letter case.
    func find(email: String) throws -> UserRecord? {
        try database.withConnection(retry: true) { connection in
            try connection.query(Self.byEmail, [email]).first.map { try UserRecord($0) }
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

    /// Who acts: an administrator through the API (their id, and the request's address and user agent in the
    /// event), or nobody (the command line: no actor, no request).
    struct Actor {
        let id: String?
        let request: HTTPRequest?

        static let commandLine = Actor(id: nil, request: nil)

        func event(_ kind: SecurityEvent.Kind, userID: String) -> SecurityEvent {
            guard let request else { return SecurityEvent(kind, userID: userID, actorID: id) }
            return SecurityEvent(kind, userID: userID, actorID: id, request: request)
        }
    }

    enum Action {
        case activate, deactivate, verify, unverify, promote, demote
        case grantPremium(plan: PremiumPlan, end: GrantPremiumRequest.End)
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

        /// The flag it sets — its column (never from input), where `UserRecord` reads it — and to what.
        var flag: (column: String, current: KeyPath<UserRecord, Bool>, value: Bool)? {
            switch self {
            case .activate: ("is_active", \.isActive, true)
            case .deactivate: ("is_active", \.isActive, false)
            case .verify: ("is_verified", \.isVerified, true)
            case .unverify: ("is_verified", \.isVerified, false)
            case .promote: ("is_admin", \.isAdmin, true)
            case .demote: ("is_admin", \.isAdmin, false)
            case .grantPremium, .endPremium: nil
            }
        }
    }

    /// `endPremium` on an account that is not premium (nothing to end).
    struct NotPremium: Error {}

    /// The user, its row locked for the change.
    static let lockTarget = PreparedStatement("admin_lock_target", """
        SELECT \(UserRecord.columns) FROM users u WHERE u.id = $1 FOR NO KEY UPDATE
        """)

    struct Outcome {
        /// The user afterwards.
        let user: UserRecord
        /// False when the user already was as asked (nothing written, no event).
        let changed: Bool
        /// The sessions a deactivation revoked.
        let sessionsRevoked: Int
    }

    /// Applies `action` to the user, revoking every session and refresh token and ending every mailed link
    /// (`OutstandingLinks`) at once when it deactivates, and records its event — in one transaction, and only when
    /// something changes (repeating an action is answered the same and records nothing more). Nil when there is no such user. Throws `LastAdministrator` (deactivate,
    /// demote) or `NotPremium` (end premium).
    func apply(_ action: Action, userID: String, actor: Actor) throws -> Outcome? {
        let event = actor.event(action.eventKind, userID: userID)
        let outcome = try database.transaction { connection -> Outcome? in
            try Self.lockAdministrators(actorID: actor.id, protecting: action.removesAdministrator ? userID : nil, on: connection)
            guard let row = try connection.query(Self.lockTarget, [userID]).first else { return nil }
            let before = try UserRecord(row)
            let after: UserRecord?
            switch action {
            case .grantPremium(let plan, let end):
                after = try UserRepository.changePremium(.grant(plan, end), userID: userID, on: connection)
            case .endPremium:
                guard before.isPremium else { throw NotPremium() }
                after = try UserRepository.changePremium(.end(activeOnly: false), userID: userID, on: connection)
            default:
                guard let (column, current, value) = action.flag else { preconditionFailure("every other action sets a flag") }
                if before[keyPath: current] == value {
                    after = nil
                } else {
                    after = try connection.query(
                        "UPDATE users AS u SET \(column) = $2, updated_at = now() WHERE u.id = $1 RETURNING \(UserRecord.columns)",
                        [userID, value]).first.map { try UserRecord($0) }
                }
            }
            guard let after else { return Outcome(user: before, changed: false, sessionsRevoked: 0) }
            // The user's row is locked above: users first, then sessions, as every writer of sessions takes them.
            var revoked = 0
            if case .deactivate = action {
                revoked = try sessions.revoke(userID: userID, .all, on: connection)
                try OutstandingLinks.end(after: .deactivated, userID: userID, on: connection)
            }
            try events.record(event, on: connection)
            return Outcome(user: after, changed: true, sessionsRevoked: revoked)
        }
        if outcome?.changed == true { events.counted(event) }
        return outcome
    }

    /// Revokes every live session of the user and their refresh tokens and ends its pending changes of address
    /// (`OutstandingLinks`), recording the event when any session was live, in one transaction. How many were
    /// live; nil when there is no such user.
    func revokeSessions(userID: String, actor: Actor) throws -> Int? {
        let event = actor.event(.adminSessionsRevoked, userID: userID)
        let count = try database.transaction { connection -> Int? in
            try Self.lockAdministrators(actorID: actor.id, protecting: nil, on: connection)
            guard try connection.query(SessionRepository.lockUser, [userID]).first != nil else { return nil }
            let count = try sessions.revoke(userID: userID, .all, on: connection)
            try OutstandingLinks.end(after: .sessionsRevoked, userID: userID, on: connection)
            if count > 0 { try events.record(event, on: connection) }
            return count
        }
        if let count, count > 0 { events.counted(event) }
        return count
    }

    static let deleteUser = PreparedStatement("admin_delete_user", "DELETE FROM users WHERE id = $1 RETURNING email, username")

    /// Deletes the account and every row that names it (`DELETE /users/me`'s deletion, `UserRepository.delete`) and
    /// records `admin_deleted`, anonymised but for its actor, in one transaction. False when there is no such user; throws
    /// `LastAdministrator` when it is the last active administrator.
    func delete(userID: String, actor: Actor) throws -> Bool {
        // An administrator deleting their own account: the event cannot name a row that is gone.
        let event = SecurityEvent(anonymised: .adminDeleted, actorID: actor.id == userID ? nil : actor.id)
        return try UserRepository(database: database, events: events).delete(userID: userID, actorID: actor.id, claim: Self.deleteUser,
                                                                             [userID], event: event)
    }
}
