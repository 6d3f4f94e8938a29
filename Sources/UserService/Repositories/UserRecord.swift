import Postgres

/// An account as clients see it (never the password hash). Read from the columns `UserRecord.columns` lists.
struct UserRecord {
    /// The select list every user query uses, prefixed with the users table's alias `u`.
    /// `is_premium` is computed: premium lapses at `premium_expires_at` by itself, in every answer and every check.
    static let columns = "u.id, u.email, u.username, u.full_name, u.is_active, u.is_verified, "
        + "coalesce(u.premium_expires_at > now(), false), u.created_at, u.updated_at, u.last_login, "
        + "u.current_title, u.location, u.is_admin, u.premium_plan, u.premium_expires_at"
    static let columnCount = 15

    let id: String
    let email: String
    let username: String
    let fullName: String?
    let isActive: Bool
    let isVerified: Bool
    let isPremium: Bool
    let createdAt: PostgresTimestamp
    let updatedAt: PostgresTimestamp
    let lastLogin: PostgresTimestamp?
    let currentTitle: String?
    let location: String?
    let isAdmin: Bool
    /// `monthly` or `yearly` while premium lasts; with its expiry, nil for a basic account (or one that lapsed).
    let premiumPlan: String?
    let premiumExpiresAt: PostgresTimestamp?

    init(id: String, email: String, username: String, fullName: String?, isActive: Bool, isVerified: Bool, isPremium: Bool,
         createdAt: PostgresTimestamp, updatedAt: PostgresTimestamp, lastLogin: PostgresTimestamp?,
         currentTitle: String? = nil, location: String? = nil, isAdmin: Bool = false, premiumPlan: String? = nil,
         premiumExpiresAt: PostgresTimestamp? = nil) {
        self.id = id
        self.email = email
        self.username = username
        self.fullName = fullName
        self.isActive = isActive
        self.isVerified = isVerified
        self.isPremium = isPremium
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastLogin = lastLogin
        self.currentTitle = currentTitle
        self.location = location
        self.isAdmin = isAdmin
        self.premiumPlan = premiumPlan
        self.premiumExpiresAt = premiumExpiresAt
    }

    /// Reads the user from `row`, starting at column `offset`.
    init(_ row: PostgresRow, offset: Int = 0) throws {
        id = try row.requiredString(offset)
        email = try row.requiredString(offset + 1)
        username = try row.requiredString(offset + 2)
        fullName = row.string(offset + 3)
        isActive = try row.bool(offset + 4) ?? false
        isVerified = try row.bool(offset + 5) ?? false
        isPremium = try row.bool(offset + 6) ?? false
        guard let created = try row.timestamp(offset + 7), let updated = try row.timestamp(offset + 8) else {
            throw PostgresError(kind: .decoding)
        }
        createdAt = created
        updatedAt = updated
        lastLogin = try row.timestamp(offset + 9)
        currentTitle = row.string(offset + 10)
        location = row.string(offset + 11)
        isAdmin = try row.bool(offset + 12) ?? false
        // A lapsed subscription reads as none.
        premiumPlan = isPremium ? row.string(offset + 13) : nil
        premiumExpiresAt = isPremium ? try row.timestamp(offset + 14) : nil
    }

    /// The user as of `microsecondsSinceEpoch`: premium that has passed its expiry since the row was read reads as
    /// none, as the query computes it (a record kept in the session cache is compared with the clock at each use).
    func asOf(microsecondsSinceEpoch now: Int64) -> UserRecord {
        guard isPremium, let expiry = premiumExpiresAt, expiry.microsecondsSinceEpoch <= now else { return self }
        return UserRecord(id: id, email: email, username: username, fullName: fullName, isActive: isActive, isVerified: isVerified,
                          isPremium: false, createdAt: createdAt, updatedAt: updatedAt, lastLogin: lastLogin,
                          currentTitle: currentTitle, location: location, isAdmin: isAdmin, premiumPlan: nil, premiumExpiresAt: nil)
    }

    /// A user to describe `UserResponse` with.
    static let example = UserRecord(
        id: "00000000-0000-0000-0000-000000000000", email: "user@example.com", username: "user", fullName: nil,
        isActive: true, isVerified: false, isPremium: false, createdAt: PostgresTimestamp(microsecondsSinceEpoch: 0),
        updatedAt: PostgresTimestamp(microsecondsSinceEpoch: 0), lastLogin: nil)
}
