import Postgres

/// The SQL for accounts (the profile's update and the account's deletion: `UserRepository+Profile.swift`).
struct UserRepository {
    let database: Database
    let events: SecurityEventRepository

    struct Credentials {
        let id: String
        let hashedPassword: String
        let isActive: Bool
        let isVerified: Bool
    }

    static let insert = PreparedStatement("user_insert", """
        INSERT INTO users AS u (email, username, full_name, hashed_password) VALUES ($1, $2, $3, $4)
        RETURNING \(UserRecord.columns)
        """)

    /// Creates the account and runs `alongside` (the verification mail) in the same transaction.
    func create(email: String, username: String, fullName: String?, hashedPassword: String,
                alongside: (UserRecord, PostgresConnection) throws -> Void) throws -> UserRecord {
        try database.transaction { connection in
            guard let row = try connection.query(Self.insert, [email, username, fullName, hashedPassword]).first else {
                throw PostgresError(kind: .decoding)
            }
            let user = try UserRecord(row)
            try alongside(user, connection)
            return user
        }
    }

    static let credentialsByLogin = PreparedStatement("user_credentials_by_login", """
        SELECT id, hashed_password, is_active, is_verified FROM users WHERE lower(email) = $1 OR lower(username) = $1 LIMIT 1
        """)

    /// The account whose email or username (in any letter case) is `login`.
    func credentials(login: String) throws -> Credentials? {
        try database.withConnection(retry: true) { connection in
            guard let row = try connection.query(Self.credentialsByLogin, [login.lowercased()]).first else { return nil }
            return Credentials(id: try row.requiredString(0), hashedPassword: try row.requiredString(1), isActive: try row.bool(2) ?? false,
                               isVerified: try row.bool(3) ?? false)
        }
    }

    static let hashByID = PreparedStatement("user_hash_by_id", "SELECT hashed_password FROM users WHERE id = $1")

    func hashedPassword(userID: String) throws -> String? {
        try database.withConnection(retry: true) { try $0.query(Self.hashByID, [userID]).first?.string(0) }
    }
}
