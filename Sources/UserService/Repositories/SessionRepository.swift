import Postgres

/// The SQL for sessions and refresh tokens. A session is live while not revoked, not expired and its user active.
struct SessionRepository {
    let database: Database
    let events: SecurityEventRepository

    struct NewSession {
        let id: String
        let refreshToken: String
    }

    /// A login's claim on the account, made first in the transaction that opens its session: the row is updated
    /// (and so locked) only if it still has the hash the password was checked against and is active. Under READ
    /// COMMITTED an UPDATE re-reads a row that a concurrent transaction changed and committed, so a password change
    /// that commits while this login was checking the old password wins. With `$3`, a stronger hash of the same
    /// password replaces the stored one (never a hash of an old password: the condition fails first).
    static let claimAccount = PreparedStatement("login_claim_account", """
        UPDATE users SET last_login = now(), hashed_password = coalesce($3, hashed_password)
        WHERE id = $1 AND hashed_password = $2 AND is_active RETURNING id
        """)

    /// Opens a session with its first refresh token and records the login and its event, in one transaction —
    /// only if the account still has `verifiedHash` and is active (nil otherwise: the login lost a race with a
    /// password change or a deactivation). `upgradedHash` replaces the stored hash in the same step.
    func open(userID: String, verifiedHash: String, upgradedHash: String?, sessionDays: Int, refreshDays: Int,
              event: SecurityEvent) throws -> NewSession? {
        let refresh = try OpaqueToken.generate()
        let session = try database.transaction { connection -> NewSession? in
            guard try connection.query(Self.claimAccount, [userID, verifiedHash, upgradedHash]).first != nil else { return nil }
            guard let sessionID = try connection.query("""
                INSERT INTO user_sessions (user_id, user_agent, ip_address, expires_at)
                VALUES ($1, $2, $3, now() + make_interval(days => $4)) RETURNING id
                """, [userID, event.userAgent, event.ipAddress, sessionDays]).first?.requiredString(0)
            else { throw PostgresError(kind: .decoding) }
            try connection.query("""
                INSERT INTO refresh_tokens (session_id, user_id, token_hash, expires_at)
                SELECT id, user_id, $2, least(now() + make_interval(days => $3), expires_at) FROM user_sessions WHERE id = $1
                """, [sessionID, PostgresBytes(refresh.hash), refreshDays])
            try events.record(event, on: connection)
            return NewSession(id: sessionID, refreshToken: refresh.token)
        }
        if session != nil { events.counted(event) }
        return session
    }

    /// Every authenticated request that the worker's cache does not answer: the user of a live session and the
    /// session's expiry, in one round trip, and whether its "last seen" is older than `lastSeenInterval` seconds.
    /// Only then is it written (a second, rare statement), so reads do not become writes.
    static let authenticate = PreparedStatement("session_authenticate", """
        SELECT \(UserRecord.columns), s.last_seen_at < now() - make_interval(secs => $3), s.expires_at
        FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active
        """)
    static let touch = PreparedStatement("session_touch", """
        UPDATE user_sessions SET last_seen_at = now() WHERE id = $1 AND last_seen_at < now() - make_interval(secs => $2)
        """)

    /// A live session's user, and when the session expires.
    struct LiveSession {
        let user: UserRecord
        let expiresAt: PostgresTimestamp
    }

    func authenticate(sessionID: String, userID: String, lastSeenInterval: Int) throws -> LiveSession? {
        try database.withConnection(retry: true) { connection in
            guard let row = try connection.query(Self.authenticate, [sessionID, userID, lastSeenInterval]).first else { return nil }
            if try row.bool(UserRecord.columnCount) == true {
                try connection.query(Self.touch, [sessionID, lastSeenInterval])
            }
            guard let expiresAt = try row.timestamp(UserRecord.columnCount + 1) else { throw PostgresError(kind: .decoding) }
            return LiveSession(user: try UserRecord(row), expiresAt: expiresAt)
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
        let next = try OpaqueToken.generate()
        // Not retried after a lost connection: the rotation may have happened.
        return try database.withConnection { connection in
            guard let row = try connection.query(Self.rotate, [PostgresBytes(try OpaqueToken.hash(refreshToken)), PostgresBytes(next.hash), refreshDays]).first
            else { return nil }
            return (try row.requiredString(0), try row.requiredString(1), next.token)
        }
    }

    /// Which sessions of a user to revoke.
    enum Scope {
        case one(String)
        case all
        case allExcept(String)
    }

    /// Every transaction that changes a user's sessions locks the user's row first, so they all take their locks
    /// in one order (user, then sessions) and a change-password and a logout-all cannot deadlock. FOR SHARE:
    /// revocations do not wait for each other, only for a login or a password change of the same user.
    static let lockUser = PreparedStatement("user_lock_for_sessions", "SELECT id FROM users WHERE id = $1 FOR SHARE")

    /// Revokes sessions of `userID` and their refresh tokens, recording `event` when any was live, and ends the links
    /// that `endingLinks` ends (`OutstandingLinks`: logout-all), in one transaction; returns how many sessions were live.
    @discardableResult
    func revoke(userID: String, _ scope: Scope, event: SecurityEvent, endingLinks: OutstandingLinks.Cause? = nil) throws -> Int {
        let count = try database.transaction { connection in
            try connection.query(Self.lockUser, [userID])
            let count = try revoke(userID: userID, scope, on: connection)
            if let endingLinks { try OutstandingLinks.end(after: endingLinks, userID: userID, on: connection) }
            if count > 0 { try events.record(event, on: connection) }
            return count
        }
        if count > 0 { events.counted(event) }
        return count
    }

    /// The revocation itself, one statement on the caller's connection (inside a transaction that locked the user first).
    func revoke(userID: String, _ scope: Scope, on connection: PostgresConnection) throws -> Int {
        let (condition, parameters): (String, [(any PostgresBindable)?]) = switch scope {
        case .one(let id): ("AND id = $2", [userID, id])
        case .all: ("", [userID])
        case .allExcept(let id): ("AND id <> $2", [userID, id])
        }
        return try connection.query("""
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

    /// After a failed rotation: the session and user of a refresh token that was already used, and whether
    /// that use was within `grace` seconds (two tabs racing) rather than a replay.
    static let usedToken = PreparedStatement("refresh_used_token", """
        SELECT session_id, user_id, used_at > now() - make_interval(secs => $2) FROM refresh_tokens
        WHERE token_hash = $1 AND used_at IS NOT NULL
        """)

    func usedToken(_ refreshToken: String, grace: Int) throws -> (sessionID: String, userID: String, withinGrace: Bool)? {
        try database.withConnection(retry: true) { connection in
            guard let row = try connection.query(Self.usedToken, [PostgresBytes(try OpaqueToken.hash(refreshToken)), grace]).first else { return nil }
            return (try row.requiredString(0), try row.requiredString(1), try row.bool(2) ?? false)
        }
    }

    struct SessionInfo {
        let id: String
        let userAgent: String?
        let ipAddress: String?
        let createdAt: PostgresTimestamp
        let lastSeenAt: PostgresTimestamp
        let expiresAt: PostgresTimestamp
        let revokedAt: PostgresTimestamp?

        /// The columns `SessionInfo.init(_:)` reads, in its order.
        static let columns = "id, user_agent, ip_address, created_at, last_seen_at, expires_at, revoked_at"

        static let example = SessionInfo(
            id: "00000000-0000-0000-0000-000000000000", userAgent: "curl/7.88.1", ipAddress: "127.0.0.1",
            createdAt: PostgresTimestamp(microsecondsSinceEpoch: 0), lastSeenAt: PostgresTimestamp(microsecondsSinceEpoch: 0),
            expiresAt: PostgresTimestamp(microsecondsSinceEpoch: 0), revokedAt: nil)

        init(id: String, userAgent: String?, ipAddress: String?, createdAt: PostgresTimestamp, lastSeenAt: PostgresTimestamp,
             expiresAt: PostgresTimestamp, revokedAt: PostgresTimestamp?) {
            self.id = id
            self.userAgent = userAgent
            self.ipAddress = ipAddress
            self.createdAt = createdAt
            self.lastSeenAt = lastSeenAt
            self.expiresAt = expiresAt
            self.revokedAt = revokedAt
        }

        init(_ row: PostgresRow) throws {
            guard let created = try row.timestamp(3), let seen = try row.timestamp(4), let expires = try row.timestamp(5) else {
                throw PostgresError(kind: .decoding)
            }
            self.init(id: try row.requiredString(0), userAgent: row.string(1), ipAddress: row.string(2), createdAt: created,
                      lastSeenAt: seen, expiresAt: expires, revokedAt: try row.timestamp(6))
        }
    }

    func live(userID: String) throws -> [SessionInfo] {
        try database.withConnection(retry: true) { connection in
            try connection.query("""
                SELECT \(SessionInfo.columns) FROM user_sessions
                WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY created_at DESC
                """, [userID]).rows.map(SessionInfo.init)
        }
    }

    /// A password change's claim on the account: the row is updated (and locked) only if it still has the hash
    /// the current password was checked against (see `claimAccount` for why an UPDATE sees a concurrent change).
    static let replaceHash = PreparedStatement("password_replace_hash", """
        UPDATE users SET hashed_password = $3, updated_at = now() WHERE id = $1 AND hashed_password = $2 AND is_active
        RETURNING email
        """)
    /// The caller's session, locked, if it is still live.
    static let lockLiveSession = PreparedStatement("session_lock_live", """
        SELECT id FROM user_sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now() FOR SHARE
        """)

    /// Why a password change did not happen: what it was claimed with changed meanwhile.
    private struct Superseded: Error {}

    /// Sets a new password hash, revokes every other session of the user, ends its reset links, records the event
    /// and queues the "password changed" notice, in one transaction — only if the account still has `verifiedHash`
    /// and the caller's session is still live, both rows locked (the user's first, the order every writer of
    /// sessions takes them in: see `lockUser`). False when either changed.
    func changePassword(userID: String, verifiedHash: String, newHash: String, keepSession: String,
                        event: SecurityEvent) throws -> Bool {
        try replacePassword(userID: userID, event: event) { connection in
            guard let email = try connection.query(Self.replaceHash, [userID, verifiedHash, newHash]).first?.string(0),
                  try connection.query(Self.lockLiveSession, [keepSession, userID]).first != nil
            else { return nil }
            return (email, .allExcept(keepSession))
        }
    }

    /// The transaction of every password change (change-password, a reset): `claim` sets the hash, having locked the
    /// user's row first, and names the account's address and the sessions to revoke — or nil when what it checked
    /// changed meanwhile (then nothing is written, and the answer is false). Then the sessions are revoked, the
    /// account's unused reset links and pending changes of address ended, the notice queued to its address and
    /// `event` recorded.
    func replacePassword(userID: String, event: SecurityEvent,
                         claim: (PostgresConnection) throws -> (email: String, revoking: Scope)?) throws -> Bool {
        do {
            try database.transaction { connection in
                guard let (email, scope) = try claim(connection) else { throw Superseded() }
                _ = try revoke(userID: userID, scope, on: connection)
                try PasswordResetRepository.passwordChanged(userID: userID, email: email, on: connection)
                try events.record(event, on: connection)
            }
        } catch is Superseded {
            return false
        }
        events.counted(event)
        return true
    }
}
