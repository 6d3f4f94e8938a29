import HTTP

/// `GET /api/v1/users/me/stats` and `GET /api/v1/users/me/export`: what the service holds about the caller.
/// SQL in `AccountDataRepository`, `ProfileRepository`, `PreferencesRepository`; answers in
/// `Models/AccountDataResponses.swift`.
extension UserController {
    // MARK: GET /users/me/stats

    func stats(_ caller: Caller, _ context: RequestContext) throws -> AccountStats {
        guard let counts = try services.accountData.counts(userID: caller.user.id,
                                                           loginWindowDays: services.configuration.securityEventRetentionDays)
        else { throw APIError.unauthorized() }
        let profile = try services.profiles.find(userID: caller.user.id) ?? .empty
        return AccountStats(user: caller.user, counts: counts, loginWindowDays: services.configuration.securityEventRetentionDays,
                            completeness: Self.completeness(caller.user, profile))
    }

    /// Completeness over the basic profile's optional fields and the extended profile's.
    static func completeness(_ user: UserRecord, _ profile: ProfileRecord) -> ProfileCompleteness {
        func has(_ text: String?) -> Bool { !(text ?? "").isEmpty }
        let basic = [("full_name", has(user.fullName)), ("current_title", has(user.currentTitle)), ("location", has(user.location))]
        return ProfileCompleteness(basic.map { (name: $0.0, filled: $0.1) } + profile.filledFields)
    }

    // MARK: GET /users/me/export

    func export(_ caller: Caller, _ context: RequestContext) throws -> AccountExport {
        let userID = caller.user.id
        // Recorded first: an export that could not be recorded is not handed out.
        try services.events.record(SecurityEvent(.dataExport, userID: userID, request: context.request))
        let history = try services.accountData.history(userID: userID)
        return AccountExport(exportedAt: history.at.iso8601, user: caller.user, profile: history.profile ?? .empty,
                             preferences: history.preferences ?? .empty, sessions: history.sessions, events: history.events)
    }
}
