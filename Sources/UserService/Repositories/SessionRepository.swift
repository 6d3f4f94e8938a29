import Postgres

/// The SQL for sessions and refresh tokens. A session is live while not revoked, not expired and its user active.
struct SessionRepository {
    let database: Database

    struct NewSession {
        let id: String
        let refreshToken: String
    }

    /// Opens a session with its first refresh token and records the login, in one transaction.
    func open(userID: String, userAgent: String?, ipAddress: String?, sessionDays: Int, refreshDays: Int) throws -> NewSession {
        let refresh = RefreshToken.generate()
        return try database.transaction { connection in
            let sessionID = try connection.query("""
                INSERT INTO user_sessions (user_id, user_agent, ip_address, expires_at)
                VALUES ($1, $2, $3, now() + make_interval(days => $4)) RETURNING id
                """, [userID, userAgent.map { String($0.prefix(512)) }, ipAddress.map { String($0.prefix(64)) }, sessionDays])
                .first!.requiredString(0)
            try connection.query("""
                INSERT INTO refresh_tokens (session_id, user_id, token_hash, expires_at)
                SELECT id, user_id, $2, least(now() + make_interval(days => $3), expires_at) FROM user_sessions WHERE id = $1
                """, [sessionID, PostgresBytes(refresh.hash), refreshDays])
            try connection.query("UPDATE users SET last_login = now() WHERE id = $1", [userID])
            return NewSession(id: sessionID, refreshToken: refresh.token)
        }
    }

    /// Every authenticated request: the user of a live session, in one round trip. "Last seen" is written only
    /// when older than `lastSeenInterval` seconds, so a read does not become a write on every request.
    static let authenticate = PreparedStatement("session_authenticate", """
        WITH touched AS (
            UPDATE user_sessions SET last_seen_at = now()
            WHERE id = $1 AND last_seen_at < now() - make_interval(secs => $3) AND revoked_at IS NULL
        )
        SELECT \(UserRecord.columns) FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active
        """)

    func authenticate(sessionID: String, userID: String, lastSeenInterval: Int) throws -> UserRecord? {
        try database.withConnection(retry: true) { connection in
            try connection.query(Self.authenticate, [sessionID, userID, lastSeenInterval]).first.map { try UserRecord($0) }
        }
    }

    /// Rotates a refresh token in one statement: the old one is marked used and a new one is issued only if the
    /// old one was unused, unexpired and its session live. Two concurrent rotations of one token cannot both win:
    /// the second waits for the first's row lock, then finds the token used.
    static let rotate = PreparedStatement("refresh_rotate", """
        WITH old AS (
            UPDATE refresh_tokens SET used_at = now()
            WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
            RETURNING session_id, user_id
        ), live AS (
            SELECT old.session_id, old.user_id, s.expires_at FROM old
            JOIN user_sessions s ON s.id = old.session_id JOIN users u ON u.id = old.user_id
            WHERE s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active
        )
        INSERT INTO refresh_tokens (session_id, user_id, token_hash, expires_at)
        SELECT session_id, user_id, $2, least(now() + make_interval(days => $3), expires_at) FROM live
        RETURNING session_id, user_id
        """)

    func rotate(refreshToken: String, refreshDays: Int) throws -> (sessionID: String, userID: String, refreshToken: String)? {
        let next = RefreshToken.generate()
        // Not retried after a lost connection: the rotation may have happened.
        return try database.withConnection { connection in
            guard let row = try connection.query(Self.rotate, [PostgresBytes(RefreshToken.hash(refreshToken)), PostgresBytes(next.hash), refreshDays]).first
            else { return nil }
            return (try row.requiredString(0), try row.requiredString(1), next.token)
        }
    }

    /// Revokes sessions of `userID` (all, one, or all but one) and their refresh tokens; returns how many sessions.
    enum Scope {
        case one(String)
        case all
        case allExcept(String)
    }

    @discardableResult
    func revoke(userID: String, _ scope: Scope) throws -> Int {
        let (condition, parameters): (String, [(any PostgresBindable)?]) = switch scope {
        case .one(let id): ("AND id = $2", [userID, id])
        case .all: ("", [userID])
        case .allExcept(let id): ("AND id <> $2", [userID, id])
        }
        return try database.withConnection { connection in
            try connection.query("""
                WITH revoked AS (
                    UPDATE user_sessions SET revoked_at = now()
                    WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() \(condition)
                    RETURNING id
                ), tokens AS (
                    UPDATE refresh_tokens SET revoked_at = now()
                    WHERE session_id IN (SELECT id FROM revoked) AND revoked_at IS NULL
                )
                SELECT count(*) FROM revoked
                """, parameters).first?.int(0) ?? 0
        }
    }

    struct SessionInfo {
        let id: String
        let userAgent: String?
        let ipAddress: String?
        let createdAt: PostgresTimestamp
        let lastSeenAt: PostgresTimestamp
        let expiresAt: PostgresTimestamp
    }

    func live(userID: String) throws -> [SessionInfo] {
        try database.withConnection(retry: true) { connection in
            try connection.query("""
                SELECT id, user_agent, ip_address, created_at, last_seen_at, expires_at FROM user_sessions
                WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY created_at DESC
                """, [userID]).rows.map { row in
                guard let created = try row.timestamp(3), let seen = try row.timestamp(4), let expires = try row.timestamp(5) else {
                    throw PostgresError(kind: .decoding)
                }
                return SessionInfo(id: try row.requiredString(0), userAgent: row.string(1), ipAddress: row.string(2),
                                   createdAt: created, lastSeenAt: seen, expiresAt: expires)
            }
        }
    }

    /// Sets a new password hash and revokes every other session of the user, in one transaction.
    func changePassword(userID: String, newHash: String, keepSession: String) throws {
        try database.transaction { connection in
            try connection.query("UPDATE users SET hashed_password = $2, updated_at = now() WHERE id = $1", [userID, newHash])
            try connection.query("""
                WITH revoked AS (
                    UPDATE user_sessions SET revoked_at = now() WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL RETURNING id
                )
                UPDATE refresh_tokens SET revoked_at = now() WHERE session_id IN (SELECT id FROM revoked) AND revoked_at IS NULL
                """, [userID, keepSession])
        }
    }
}
