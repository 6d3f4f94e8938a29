import HTTP

/// `GET`/`PUT /api/v1/users/me/preferences`: the caller's job-matching preferences. Routes are in `Routes.swift`,
/// the body and answer in `Models/Preferences*.swift`, the SQL in `PreferencesRepository`.
struct PreferencesController {
    let preferences: PreferencesRepository

    func show(_ caller: Caller, _ context: RequestContext) throws -> PreferencesResponse {
        PreferencesResponse(try preferences.find(userID: caller.user.id) ?? .empty)
    }

    func update(_ caller: Caller, _ context: RequestContext, _ body: PreferencesUpdate) throws -> PreferencesResponse {
        PreferencesResponse(try preferences.update(userID: caller.user.id, body.sent))
    }
}
