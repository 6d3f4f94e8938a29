import HTTP

/// `GET`/`PUT /api/v1/users/me/profile`: the caller's extended profile. Routes are in `Routes.swift`, the body and
/// answer in `Models/Profile*.swift`, the SQL in `ProfileRepository`.
struct ProfileController {
    let profiles: ProfileRepository

    func show(_ caller: Caller, _ context: RequestContext) throws -> ProfileResponse {
        ProfileResponse(try profiles.find(userID: caller.user.id) ?? .empty)
    }

    func update(_ caller: Caller, _ context: RequestContext, _ body: ProfileUpdate) throws -> ProfileResponse {
        ProfileResponse(try profiles.update(userID: caller.user.id, body.sent))
    }
}
