import Postgres

/// `PUT /api/v1/users/me` and `DELETE /api/v1/users/me`: the basic profile's update and the account's deletion.
extension UserRepository {
    /// One statement: each field changes only when sent (`$3`, `$5`, `$7` say whether `$4`, `$6`, `$8` are to be
    /// stored, NULL clearing), the username only when `$2` is not NULL. `updated_at` moves only when a stored value
    /// really changes. The SET expressions read the row being updated, so a concurrent update of other fields is
    /// re-read (READ COMMITTED's re-check of an updated row), never overwritten with old values.
    static let updateProfile = PreparedStatement("user_update_profile", """
        UPDATE users AS u SET
            username = coalesce($2::text, u.username),
            full_name = CASE WHEN $3::boolean THEN $4::text ELSE u.full_name END,
            current_title = CASE WHEN $5::boolean THEN $6::text ELSE u.current_title END,
            location = CASE WHEN $7::boolean THEN $8::text ELSE u.location END,
            updated_at = CASE WHEN $2::text <> u.username
                                   OR ($3::boolean AND $4::text IS DISTINCT FROM u.full_name)
                                   OR ($5::boolean AND $6::text IS DISTINCT FROM u.current_title)
                                   OR ($7::boolean AND $8::text IS DISTINCT FROM u.location)
                              THEN now() ELSE u.updated_at END
        WHERE u.id = $1 AND u.is_active
        RETURNING \(UserRecord.columns)
        """)

    /// The user after the update, or nil when the account is gone or inactive. A username taken in any letter case
    /// is the unique index `users_username_key` (409, `ConstraintErrors`).
    func updateProfile(userID: String, _ update: UpdateUserRequest) throws -> UserRecord? {
        func parameters(_ patch: Patch<String>) -> [(any PostgresBindable)?] {
            switch patch {
            case .absent: [false, nil]
            case .null: [true, nil]
            case .value(let value): [true, value]
            }
        }
        let values: [(any PostgresBindable)?] = [userID, update.username] + parameters(update.fullName)
            + parameters(update.currentTitle) + parameters(update.location)
        // Setting values, not adding to them: safe to repeat on a fresh connection.
        return try database.withConnection(retry: true) { connection in
            try connection.query(Self.updateProfile, values).first.map { try UserRecord($0) }
        }
    }

    /// The deletion's claim on the account: the users row is deleted (so locked first, the order every writer of a
    /// user's rows takes: see `SessionRepository.lockUser`) only if it still has the hash the password was checked
    /// against. Under READ COMMITTED a DELETE re-reads a row that a concurrent transaction changed and committed,
    /// so a password change committed meanwhile wins. Every row naming the user by id cascades (sessions, refresh
    /// tokens, security events, change-password attempts, profile and preferences).
    static let deleteAccount = PreparedStatement("user_delete_account", """
        DELETE FROM users WHERE id = $1 AND hashed_password = $2 AND is_active RETURNING email, username
        """)
    /// Throttle counters name the account by what was typed at login: its email and its username.
    static let forgetThrottle = PreparedStatement("user_forget_throttle", """
        DELETE FROM login_throttle WHERE identifier IN (lower($1), lower($2))
        """)

    /// Deletes the account and every row that names it, and records `event` (anonymised), in one transaction —
    /// only if the account still has `verifiedHash` and is active. False when it does not (it lost a race). Throws
    /// `AdminRepository.LastAdministrator` (409) when the account is the last active administrator.
    func delete(userID: String, verifiedHash: String, event: SecurityEvent) throws -> Bool {
        try delete(userID: userID, actorID: nil, claim: Self.deleteAccount, [userID, verifiedHash], event: event)
    }

    /// The one deletion of an account, the owner's and an administrator's (`AdminRepository.delete`): the
    /// administrators' rows locked first for the last-administrator rule (users before anything else), then
    /// `claim` (a DELETE of the user's row returning its email and username; false when it deletes nothing), the
    /// throttle counters that name the account, and `event` — in one transaction.
    func delete(userID: String, actorID: String?, claim: PreparedStatement, _ parameters: [(any PostgresBindable)?],
                event: SecurityEvent) throws -> Bool {
        let deleted = try database.transaction { connection -> Bool in
            try AdminRepository.lockAdministrators(actorID: actorID, protecting: userID, on: connection)
            guard let account = try connection.query(claim, parameters).first else { return false }
            try connection.query(Self.forgetThrottle, [try account.requiredString(0), try account.requiredString(1)])
            try events.record(event, on: connection)
            return true
        }
        if deleted { events.counted(event) }
        return deleted
    }
}
