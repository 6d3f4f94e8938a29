import HTTP
/// The answers of `GET /api/v1/users/me/stats` and `GET /api/v1/users/me/export`.

struct AccountStats: ResponseModel {
    static let schemaName = "UserStats"
    static let example = AccountStats(
        user: .example, counts: AccountDataRepository.Counts(accountAgeDays: 12, logins: 7, liveSessions: 2),
        loginWindowDays: 90, completeness: ProfileCompleteness(missingFields: ["bio", "phone"], percentage: 86))
    let user: UserRecord
    let counts: AccountDataRepository.Counts
    let loginWindowDays: Int
    let completeness: ProfileCompleteness

    func write(to object: inout FieldWriter) {
        object.field("account_age_days", counts.accountAgeDays)
        object.field("created_at", user.createdAt.iso8601, format: "date-time")
        object.field("last_login", user.lastLogin?.iso8601, format: "date-time")
        object.field("logins", LoginCount(count: counts.logins, withinDays: loginWindowDays))
        object.field("live_sessions", counts.liveSessions)
        object.field("profile_completeness", CompletenessResponse(completeness: completeness))
        object.field("is_verified", user.isVerified)
        object.field("is_premium", user.isPremium)
    }
}

/// Successful logins still on record: security events are kept `SECURITY_EVENT_RETENTION_DAYS`, so the count
/// says over how many days it runs.
struct LoginCount: ResponseModel {
    static let schemaName = "LoginCount"
    static let example = LoginCount(count: 7, withinDays: 90)
    let count: Int
    let withinDays: Int

    func write(to object: inout FieldWriter) {
        object.field("count", count)
        object.field("within_days", withinDays)
    }
}

struct CompletenessResponse: ResponseModel {
    static let schemaName = "ProfileCompleteness"
    static let example = CompletenessResponse(completeness: ProfileCompleteness(missingFields: ["bio"], percentage: 93))
    let completeness: ProfileCompleteness

    func write(to object: inout FieldWriter) {
        object.field("percentage", completeness.percentage)
        object.field("missing_fields", completeness.missingFields)
    }
}

/// Everything the service holds about the caller, as one attachment: never a password hash or a token hash.
struct AccountExport: ResponseModel {
    static let schemaName = "UserDataExport"
    static let example = AccountExport(
        exportedAt: "2026-12-05T12:00:00.000000Z", user: .example, profile: .example, preferences: .example,
        sessions: [.example], events: [.example])
    let exportedAt: String
    let user: UserRecord
    let profile: ProfileRecord
    let preferences: PreferencesRecord
    let sessions: [SessionRepository.SessionInfo]
    let events: [SecurityEventRepository.EventRecord]

    func write(to object: inout FieldWriter) {
        object.field("exported_at", exportedAt, format: "date-time")
        object.field("account", UserResponse(user))
        object.field("profile", ProfileResponse(profile))
        object.field("preferences", PreferencesResponse(preferences))
        object.field("sessions", sessions.map(ExportedSession.init))
        object.field("security_events", events.map(SecurityEventResponse.init))
    }

    /// An attachment, named after the account.
    var headers: [(String, String)] {
        [("Content-Type", Self.contentType),
         ("Content-Disposition", "attachment; filename=\"user-service-export-\(user.id).json\"")]
    }
}

struct ExportedSession: ResponseModel {
    static let schemaName = "ExportedSession"
    static let example = ExportedSession(session: .example)
    let session: SessionRepository.SessionInfo

    func write(to object: inout FieldWriter) {
        session.writeDevice(to: &object)
        object.field("revoked_at", session.revokedAt?.iso8601, format: "date-time")
    }
}
