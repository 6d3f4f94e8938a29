import Crypto
import HTTP
public import Postgres

/// `user-service users`: the command line's way to the administrators' actions. It names accounts by email,
/// resolves each to its id and calls `AdminRepository` — the same methods, transactions, events and
/// last-administrator rule as the administration API — with no actor and no request (`actor_id` NULL). It adds
/// only what the command line alone does: `create-admin`, and its own vocabulary and messages.
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

    /// The commands' names. Each is `AdminRepository`'s action of the same name, but `revoke-sessions`, its own method.
    public enum Action: String, CaseIterable, Sendable {
        case promote, demote, activate, deactivate, verify, unverify
        case revokeSessions = "revoke-sessions"

        var repositoryAction: AdminRepository.Action? {
            switch self {
            case .promote: .promote
            case .demote: .demote
            case .activate: .activate
            case .deactivate: .deactivate
            case .verify: .verify
            case .unverify: .unverify
            case .revokeSessions: nil
            }
        }
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

        init(_ user: UserRecord) {
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

    let database: Database
    let events: SecurityEventRepository
    let administration: AdminRepository

    /// No metrics: the command line is no worker of the pool.
    public init(database: Database) {
        self.database = database
        events = SecurityEventRepository(database: database, metrics: nil)
        administration = AdminRepository(database: database, events: events,
                                         sessions: SessionRepository(database: database, events: events))
    }

    /// Does `action` to the account with `email` (`AdminRepository.apply` or `.revokeSessions`), recording its
    /// event when it changed something. Throws `Failure.noSuchAccount` or `.lastAdministrator`.
    public func perform(_ action: Action, email: String) throws -> Outcome {
        guard let user = try administration.find(email: email) else { throw Failure.noSuchAccount }
        guard let change = action.repositoryAction else {
            guard let revoked = try administration.revokeSessions(userID: user.id, actor: .commandLine) else {
                throw Failure.noSuchAccount
            }
            return Outcome(account: Account(user), changed: revoked > 0, sessionsRevoked: revoked)
        }
        do {
            guard let outcome = try administration.apply(change, userID: user.id, actor: .commandLine) else {
                throw Failure.noSuchAccount
            }
            return Outcome(account: Account(outcome.user), changed: outcome.changed, sessionsRevoked: outcome.sessionsRevoked)
        } catch is AdminRepository.LastAdministrator {
            throw Failure.lastAdministrator
        }
    }

    /// Creates an active, verified administrator, recording `admin_promoted`. The password rules and the email and
    /// username checks of registration apply; `Failure.invalid` lists what is wrong.
    public func createAdministrator(email rawEmail: String, username: String, password: String, policy: PasswordPolicy,
                                    bcryptCost: Int) throws -> Account {
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
            let (account, event) = try database.transaction { connection -> (Account, SecurityEvent) in
                guard let row = try connection.query("""
                    INSERT INTO users AS u (email, username, hashed_password, is_admin, is_verified) VALUES ($1, $2, $3, true, true)
                    RETURNING \(UserRecord.columns)
                    """, [email, username, hash]).first else { throw PostgresError(kind: .decoding) }
                let user = try UserRecord(row)
                let event = AdminRepository.Actor.commandLine.event(.adminPromoted, userID: user.id)
                try events.record(event, on: connection)
                return (Account(user), event)
            }
            events.counted(event)
            return account
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

    public func find(email: String) throws -> Account? {
        try administration.find(email: email).map(Account.init)
    }

    /// The account's live sessions (as `GET /admin/users/{user_id}` lists them).
    public func liveSessions(userID: String) throws -> Int {
        try administration.sessions.live(userID: userID).count
    }

    /// Accounts, oldest first: every one, or the administrators only; at most `limit`.
    public func list(administratorsOnly: Bool, limit: Int) throws -> [Account] {
        try administration.list(AdminUsersQuery(administratorsOnly: administratorsOnly, limit: limit), oldestFirst: true).users.map(Account.init)
    }

    /// The account's latest security events, newest first.
    public func recentEvents(userID: String, limit: Int) throws -> [Event] {
        try administration.recentEvents(userID: userID, limit: limit).map {
            Event(type: $0.type, createdAt: $0.createdAt, ipAddress: $0.ipAddress, actorID: $0.actorID)
        }
    }
}

@available(*, unavailable)
extension AccountAdministration: Sendable {}
