import Crypto
import HTTP
public import Postgres

/// What an administrator does to accounts, and its SQL: used by `user-service users` (the command line, whose
/// actions have no actor) and meant for the administration API as well (the administrator's id as `actorID`).
///
/// Every action is one transaction on the given connection, records its `admin_*` security event in it, and keeps
/// the last-administrator rule: demoting or deactivating the only active administrator is refused. That check is
/// race-free because the transaction first locks every active administrator's row (`FOR UPDATE`, in id order): two
/// demotions of the last two administrators serialise on those locks, and the second sees the first's change.
public struct AccountAdministration {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noSuchAccount
        case lastAdministrator
        case emailTaken
        case usernameTaken
        /// The input's problems, one message each (never the password).
        case invalid([String])

        public var description: String {
            switch self {
            case .noSuchAccount: "no account has this email"
            case .lastAdministrator: "this is the last active administrator: promote another account first"
            case .emailTaken: "an account with this email already exists (promote it instead)"
            case .usernameTaken: "this username is taken: choose another with --username"
            case .invalid(let problems): problems.joined(separator: "; ")
            }
        }
    }

    public enum Action: String, CaseIterable, Sendable {
        case promote, demote, activate, deactivate, verify, unverify
        case revokeSessions = "revoke-sessions"
    }

    /// An account as an administrator sees it (never its password hash).
    public struct Account: Sendable {
        public let id: String
        public let email: String
        public let username: String
        public let fullName: String?
        public let isActive: Bool
        public let isVerified: Bool
        public let isAdmin: Bool
        /// Premium now (a lapsed subscription is not).
        public let isPremium: Bool
        public let premiumPlan: String?
        public let premiumExpiresAt: PostgresTimestamp?
        public let createdAt: PostgresTimestamp
        public let lastLogin: PostgresTimestamp?
        public let liveSessions: Int

        init(_ row: PostgresRow) throws {
            let user = try UserRecord(row)
            id = user.id
            email = user.email
            username = user.username
            fullName = user.fullName
            isActive = user.isActive
            isVerified = user.isVerified
            isAdmin = user.isAdmin
            isPremium = user.isPremium
            premiumPlan = user.premiumPlan
            premiumExpiresAt = user.premiumExpiresAt
            createdAt = user.createdAt
            lastLogin = user.lastLogin
            liveSessions = try row.int(UserRecord.columnCount) ?? 0
        }
    }

    public struct Outcome: Sendable {
        public let account: Account
        /// False when the account already was as asked (nothing written, no event).
        public let changed: Bool
        public let sessionsRevoked: Int
    }

    /// One entry of an account's security log.
    public struct Event: Sendable {
        public let type: String
        public let createdAt: PostgresTimestamp
        public let ipAddress: String?
        /// The administrator who acted, when one did through the API.
        public let actorID: String?
    }

    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    static let accountColumns = UserRecord.columns
        + ", (SELECT count(*) FROM user_sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > now())"

    /// The account with `email` (any letter case), its row locked until the transaction ends.
    static let lockAccount = "SELECT \(accountColumns) FROM users u WHERE lower(u.email) = lower($1) FOR UPDATE"
    /// Every active administrator, locked, in one order (see the type's comment).
    static let lockAdministrators = "SELECT id FROM users WHERE is_admin AND is_active ORDER BY id FOR UPDATE"
    static let revokeAll = """
        WITH revoked AS (
            UPDATE user_sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
            RETURNING id
        ), tokens AS (
            UPDATE refresh_tokens SET revoked_at = now() WHERE session_id IN (SELECT id FROM revoked) AND revoked_at IS NULL
        )
        SELECT count(*) FROM revoked
        """

    /// Does `action` to the account with `email`, in one transaction, recording its event when it changed something
    /// (`revoke-sessions` always records one). Throws `Failure.noSuchAccount` or `.lastAdministrator`.
    public func perform(_ action: Action, email: String, actorID: String?) throws -> Outcome {
        try connection.transaction { connection in
            let administrators: [String]? = switch action {
            case .demote, .deactivate: try connection.query(Self.lockAdministrators).rows.map { try $0.requiredString(0) }
            default: nil
            }
            guard let row = try connection.query(Self.lockAccount, [email]).first else { throw Failure.noSuchAccount }
            let before = try Account(row)
            if let administrators, before.isAdmin, before.isActive, administrators == [before.id] {
                throw Failure.lastAdministrator
            }
            let (column, value, kind): (String?, Bool, SecurityEvent.Kind) = switch action {
            case .promote: ("is_admin", true, .adminPromoted)
            case .demote: ("is_admin", false, .adminDemoted)
            case .activate: ("is_active", true, .adminActivated)
            case .deactivate: ("is_active", false, .adminDeactivated)
            case .verify: ("is_verified", true, .adminVerified)
            case .unverify: ("is_verified", false, .adminUnverified)
            case .revokeSessions: (nil, false, .adminSessionsRevoked)
            }
            var changed = action == .revokeSessions
            if let column {
                // The column name comes from the switch above, never from input.
                changed = try connection.query("UPDATE users SET \(column) = $2, updated_at = now() WHERE id = $1 AND \(column) <> $2 RETURNING id",
                                               [before.id, value]).first != nil
            }
            var revoked = 0
            if action == .deactivate || action == .revokeSessions {
                revoked = try connection.query(Self.revokeAll, [before.id]).first?.int(0) ?? 0
                changed = changed || revoked > 0
            }
            if changed {
                try connection.query(SecurityEventRepository.insertSQL, [before.id, kind.rawValue, nil, nil, actorID])
            }
            guard let after = try connection.query(Self.lockAccount, [email]).first else { throw Failure.noSuchAccount }
            return Outcome(account: try Account(after), changed: changed, sessionsRevoked: revoked)
        }
    }

    /// Creates an active, verified administrator, recording `admin_promoted`. The password rules and the email and
    /// username checks of registration apply; `Failure.invalid` lists what is wrong.
    public func createAdministrator(email rawEmail: String, username: String, password: String, policy: PasswordPolicy,
                                    bcryptCost: Int, actorID: String?) throws -> Account {
        let email = rawEmail.trimmingWhitespace().lowercased()
        var problems: [String] = []
        if !AccountRules.isValidEmail(email) { problems.append("not a valid email address") }
        if !AccountRules.isValidUsername(username) { problems.append(AccountRules.usernameMessage) }
        if password.utf8.count > PasswordRules.maximumInputLength {
            problems.append("Password must be at most 72 bytes long")
        } else {
            problems += PasswordRules(policy: policy).problems(with: password, email: email, username: username)
        }
        guard problems.isEmpty else { throw Failure.invalid(problems) }
        let hash = try Bcrypt.hash(password, cost: bcryptCost)
        do {
            return try connection.transaction { connection in
                guard let id = try connection.query("""
                    INSERT INTO users (email, username, hashed_password, is_admin, is_verified) VALUES ($1, $2, $3, true, true)
                    RETURNING id
                    """, [email, username, hash]).first?.requiredString(0) else { throw PostgresError(kind: .decoding) }
                try connection.query(SecurityEventRepository.insertSQL, [id, SecurityEvent.Kind.adminPromoted.rawValue, nil, nil, actorID])
                guard let row = try connection.query(Self.lockAccount, [email]).first else { throw Failure.noSuchAccount }
                return try Account(row)
            }
        } catch let error as PostgresError where error.sqlState == .uniqueViolation {
            throw error.constraint == "users_username_key" ? Failure.usernameTaken : Failure.emailTaken
        }
    }

    /// A username made from an email's local part: the characters a username may hold, 3 to 32 of them.
    public static func username(fromEmail email: String) -> String {
        let local = email.split(separator: "@", maxSplits: 1).first.map(String.init) ?? ""
        var name = String(local.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_.-".unicodeScalars.contains(scalar))
                ? Character(scalar) : "_"
        }.prefix(32))
        while name.count < 3 { name += "_" }
        return name
    }

    /// One account with its live sessions counted, or nil.
    public func find(email: String) throws -> Account? {
        try connection.query("SELECT \(Self.accountColumns) FROM users u WHERE lower(u.email) = lower($1)", [email]).first.map(Account.init)
    }

    /// Accounts, oldest first: every one, or the administrators only; at most `limit`.
    public func list(administratorsOnly: Bool, limit: Int) throws -> [Account] {
        try connection.query("""
            SELECT \(Self.accountColumns) FROM users u WHERE u.is_admin OR NOT $1 ORDER BY u.created_at, u.id LIMIT $2
            """, [administratorsOnly, limit]).rows.map(Account.init)
    }

    /// The account's latest security events, newest first.
    public func recentEvents(userID: String, limit: Int) throws -> [Event] {
        try connection.query("""
            SELECT type, created_at, ip_address, actor_id FROM security_events WHERE user_id = $1
            ORDER BY created_at DESC, id DESC LIMIT $2
            """, [userID, limit]).rows.map { row in
            guard let created = try row.timestamp(1) else { throw PostgresError(kind: .decoding) }
            return Event(type: try row.requiredString(0), createdAt: created, ipAddress: row.string(2), actorID: row.string(3))
        }
    }
}

@available(*, unavailable)
extension AccountAdministration: Sendable {}
