import HTTP

/// Something worth auditing that happened to an account. Never holds a secret.
struct SecurityEvent {
    enum Kind: String, CaseIterable {
        case loginSuccess = "login_success"
        case loginFailure = "login_failure"
        case loginThrottled = "login_throttled"
        case logout = "logout"
        case logoutAll = "logout_all"
        case refreshTokenReuse = "refresh_token_reuse"
        case passwordChange = "password_change"
        case sessionRevoked = "session_revoked"
        /// Anonymised: no user, address or user agent (`DELETE /api/v1/users/me`).
        case accountDeleted = "account_deleted"
        /// `GET /api/v1/users/me/export`.
        case dataExport = "data_export"
        case premiumUpgraded = "premium_upgraded"
        case premiumDowngraded = "premium_downgraded"
        /// An administrator's actions on an account (`actorID`: the administrator; nil from the command line).
        case adminActivated = "admin_activated"
        case adminDeactivated = "admin_deactivated"
        case adminVerified = "admin_verified"
        case adminUnverified = "admin_unverified"
        case adminPremiumGranted = "admin_premium_granted"
        case adminPremiumEnded = "admin_premium_ended"
        case adminSessionsRevoked = "admin_sessions_revoked"
        /// Anonymised like `accountDeleted`, but for the actor.
        case adminDeleted = "admin_deleted"
        case adminPromoted = "admin_promoted"
        case adminDemoted = "admin_demoted"
        /// `user-service users import`.
        case accountImported = "account_imported"
        /// The mail flows: a reset link sent (not recorded for an unknown address or over the limit), a reset done,
        /// an address verified, a change of address asked for and confirmed.
        case passwordResetRequested = "password_reset_requested"
        case passwordReset = "password_reset"
        case emailVerified = "email_verified"
        case emailChangeRequested = "email_change_requested"
        case emailChanged = "email_changed"

        /// Position in the metrics' security-event counters.
        var metricsIndex: Int { Self.allCases.firstIndex(of: self)! }
    }

    let kind: Kind
    let userID: String?
    /// Who did it, when not the account's owner (an administrator).
    let actorID: String?
    let ipAddress: String?
    let userAgent: String?

    init(_ kind: Kind, userID: String?, actorID: String? = nil, request: HTTPRequest) {
        self.kind = kind
        self.userID = userID
        self.actorID = actorID
        // Truncated, never refused, in the unit the columns' limits count: code points, as PostgreSQL's length().
        // An administrator's address and browser are not shown to the user acted on (who reads these events).
        ipAddress = actorID == nil ? request.remoteAddress?.prefix(codePoints: 64) : nil
        userAgent = actorID == nil ? request.userAgent?.prefix(codePoints: 512) : nil
    }

    /// An event done outside any request (the command line): no address or user agent.
    init(_ kind: Kind, userID: String?, actorID: String?) {
        self.kind = kind
        self.userID = userID
        self.actorID = actorID
        ipAddress = nil
        userAgent = nil
    }

    /// An event that names nobody: no user, and no address or user agent either (with the time, they could
    /// point back to the person).
    init(anonymised kind: Kind, actorID: String? = nil) {
        self.kind = kind
        userID = nil
        self.actorID = actorID
        ipAddress = nil
        userAgent = nil
    }
}
