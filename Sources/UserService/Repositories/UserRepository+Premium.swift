import Postgres

/// What a premium subscription is bought for: `premium_plan` and the time one payment adds to `premium_expires_at`.
enum PremiumPlan: String, CaseIterable, Sendable {
    case monthly, yearly

    /// One payment's worth, as a PostgreSQL interval: calendar arithmetic in the session's time zone (a month from
    /// 31 January ends on the last day of February), never a fixed number of days.
    var duration: String {
        switch self {
        case .monthly: "1 month"
        case .yearly: "1 year"
        }
    }
}

/// Every change of an account's premium: `POST /api/v1/users/me/upgrade` and `/downgrade`, and the administrators'
/// grant and end (`PUT|DELETE /api/v1/admin/users/{user_id}/premium`, `AdminRepository`). Premium is
/// `premium_expires_at` in the future (it lapses by itself, `UserRecord.columns`), bought with `premium_plan`.
extension UserRepository {
    /// One statement, so that two upgrades at once both count: the second waits for the first's row lock, then
    /// (READ COMMITTED re-reads an updated row) extends the expiry the first wrote. `greatest` skips NULL: a basic
    /// account starts from now, a lapsed one too, a premium one from its current expiry.
    static let upgradePremium = PreparedStatement("user_upgrade_premium", """
        UPDATE users AS u SET
            premium_plan = $2,
            premium_expires_at = greatest(u.premium_expires_at, now()) + $3::interval,
            updated_at = now()
        WHERE u.id = $1 AND u.is_active
        RETURNING \(UserRecord.columns)
        """)

    /// An administrator's grant: replaces any subscription (an upgrade extends it instead), ending `$3` (an
    /// interval) from now, or at `$4` when given. Active or not, as every administrator's action.
    static let grantPremium = PreparedStatement("user_grant_premium", """
        UPDATE users AS u SET
            premium_plan = $2,
            premium_expires_at = coalesce($4::timestamptz, now() + $3::interval),
            updated_at = now()
        WHERE u.id = $1
        RETURNING \(UserRecord.columns)
        """)

    /// Ends a live subscription at once: a basic account has neither plan nor expiry (`users_premium_consistent`).
    /// `$2`: only an active account (the owner's downgrade; an administrator ends it on any).
    static let downgradePremium = PreparedStatement("user_downgrade_premium", """
        UPDATE users AS u SET premium_plan = NULL, premium_expires_at = NULL, updated_at = now()
        WHERE u.id = $1 AND (u.is_active OR NOT $2) AND u.premium_expires_at > now()
        RETURNING \(UserRecord.columns)
        """)

    static let isActive = PreparedStatement("user_is_active", "SELECT 1 FROM users WHERE id = $1 AND is_active")

    enum PremiumChange {
        /// A payment: the plan's duration added to the later of now and the current expiry; active accounts only.
        case upgrade(PremiumPlan)
        /// An administrator's grant, replacing any subscription: for the plan's own period, N days, or until a time.
        case grant(PremiumPlan, GrantPremiumRequest.End)
        /// Ends a live subscription; `activeOnly` for the owner's downgrade.
        case end(activeOnly: Bool)
    }

    /// The one statement of every premium change, on the caller's connection (inside its transaction, which
    /// records the event). The account afterwards; nil when nothing was changed (no such account, an inactive one
    /// where only active ones may change, or no live subscription to end).
    static func changePremium(_ change: PremiumChange, userID: String, on connection: PostgresConnection) throws -> UserRecord? {
        let row = switch change {
        case .upgrade(let plan): try connection.query(upgradePremium, [userID, plan.rawValue, plan.duration]).first
        case .grant(let plan, let end):
            switch end {
            case .planPeriod: try connection.query(grantPremium, [userID, plan.rawValue, plan.duration, nil]).first
            case .days(let days): try connection.query(grantPremium, [userID, plan.rawValue, "\(days) days", nil]).first
            case .at(let timestamp): try connection.query(grantPremium, [userID, plan.rawValue, nil, timestamp.text]).first
            }
        case .end(let activeOnly): try connection.query(downgradePremium, [userID, activeOnly]).first
        }
        return try row.map { try UserRecord($0) }
    }

    /// The one way an account becomes premium or extends it: `plan`'s duration added to the later of now and the
    /// current expiry, recording `event` in the same transaction. The API's `POST /users/me/upgrade` calls it; so
    /// would a payment provider's webhook once a payment has settled (its request in the event). Never retried on
    /// a fresh connection: repeated, it would add the time twice. Nil when the account is gone or inactive.
    func upgradePremium(userID: String, plan: PremiumPlan, event: SecurityEvent) throws -> UserRecord? {
        let user = try database.transaction { connection -> UserRecord? in
            guard let user = try Self.changePremium(.upgrade(plan), userID: userID, on: connection) else { return nil }
            try events.record(event, on: connection)
            return user
        }
        if user != nil { events.counted(event) }
        return user
    }

    enum DowngradeOutcome {
        case downgraded(UserRecord)
        /// A basic account, or one whose premium already lapsed.
        case notPremium
        /// Gone or deactivated since its session was checked.
        case gone
    }

    /// Ends the account's premium at once and records `event`, in one transaction.
    func downgradePremium(userID: String, event: SecurityEvent) throws -> DowngradeOutcome {
        let outcome = try database.transaction { connection -> DowngradeOutcome in
            guard let user = try Self.changePremium(.end(activeOnly: true), userID: userID, on: connection) else {
                return try connection.query(Self.isActive, [userID]).first == nil ? .gone : .notPremium
            }
            try events.record(event, on: connection)
            return .downgraded(user)
        }
        if case .downgraded = outcome { events.counted(event) }
        return outcome
    }
}
