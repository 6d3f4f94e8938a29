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

        /// Position in the metrics' security-event counters.
        var metricsIndex: Int { Self.allCases.firstIndex(of: self)! }
    }

    let kind: Kind
    let userID: String?
    let ipAddress: String?
    let userAgent: String?

    init(_ kind: Kind, userID: String?, request: HTTPRequest) {
        self.kind = kind
        self.userID = userID
        // Truncated, never refused, in the unit the columns' limits count: code points, as PostgreSQL's length().
        ipAddress = request.remoteAddress?.prefix(codePoints: 64)
        userAgent = request.userAgent?.prefix(codePoints: 512)
    }

    /// An event that names nobody: no user, and no address or user agent either (with the time, they could
    /// point back to the person).
    init(anonymised kind: Kind) {
        self.kind = kind
        userID = nil
        ipAddress = nil
        userAgent = nil
    }
}
