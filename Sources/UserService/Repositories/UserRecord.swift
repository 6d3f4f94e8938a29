import Postgres

/// A user as clients see it (never the password hash). Read from the columns `UserRecord.columns` lists.
struct UserRecord {
    /// The select list every user query uses, prefixed with the users table's alias `u`.
    static let columns = "u.id, u.email, u.username, u.full_name, u.is_active, u.is_verified, u.is_premium, u.created_at, u.updated_at, u.last_login"
    static let columnCount = 10

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
    }
}
