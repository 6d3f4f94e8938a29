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

/// `POST /api/v1/users/me/upgrade` and `/downgrade`: premium is `premium_expires_at` in the future (it lapses by
/// itself, `UserRecord.columns`), bought with `premium_plan`.
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

    /// Ends a live subscription at once: a basic account has neither plan nor expiry (`users_premium_consistent`).
    static let downgradePremium = PreparedStatement("user_downgrade_premium", """
        UPDATE users AS u SET premium_plan = NULL, premium_expires_at = NULL, updated_at = now()
        WHERE u.id = $1 AND u.is_active AND u.premium_expires_at > now()
        RETURNING \(UserRecord.columns)
        """)

    static let isActive = PreparedStatement("user_is_active", "SELECT 1 FROM users WHERE id = $1 AND is_active")

    /// The one way an account becomes premium or extends it: `plan`'s duration added to the later of now and the
    /// current expiry, recording `event` in the same transaction. The API's `POST /users/me/upgrade` calls it; so
    /// would a payment provider's webhook once a payment has settled (its request in the event). Never retried on
    /// a fresh connection: repeated, it would add the time twice. Nil when the account is gone or inactive.
    func upgradePremium(userID: String, plan: PremiumPlan, event: SecurityEvent) throws -> UserRecord? {
        let user = try database.transaction { connection -> UserRecord? in
            guard let row = try connection.query(Self.upgradePremium, [userID, plan.rawValue, plan.duration]).first else { return nil }
            try events.record(event, on: connection)
            return try UserRecord(row)
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
            guard let row = try connection.query(Self.downgradePremium, [userID]).first else {
                return try connection.query(Self.isActive, [userID]).first == nil ? .gone : .notPremium
            }
            try events.record(event, on: connection)
            return .downgraded(try UserRecord(row))
        }
        if case .downgraded = outcome { events.counted(event) }
        return outcome
    }
}
