import HTTP

/// `/api/v1/users/me`: the signed-in user's basic profile (read, partial update) and the account's deletion.
/// Routes and their attributes are in `Routes.swift`; bodies and answers in `Models/User*.swift`; SQL in
/// `UserRepository+Profile.swift`.
struct UserController {
    let services: Services

    // MARK: GET /users/me

    func me(_ caller: Caller, _ context: RequestContext) -> UserResponse { UserResponse(caller.user) }

    // MARK: PUT /users/me

    func update(_ caller: Caller, _ context: RequestContext, _ body: UpdateUserRequest) throws -> UserResponse {
        // Gone or deactivated since the token was checked: as a revoked session would be answered.
        guard let user = try services.users.updateProfile(userID: caller.user.id, body) else { throw APIError.unauthorized() }
        return UserResponse(user)
    }

    // MARK: DELETE /users/me

    func delete(_ caller: Caller, _ context: RequestContext, _ body: DeleteAccountRequest) throws -> AccountDeleted {
        // Deleted meanwhile (another device's deletion won): a 401, as a revoked session.
        let hash = try services.confirmPassword(body.password, of: caller)
        // Only if the hash is still the one just checked: a password change committed meanwhile wins, and this
        // request fails as a revoked session would. The last active administrator: 409, thrown by the deletion.
        guard try services.users.delete(userID: caller.user.id, verifiedHash: hash, event: SecurityEvent(anonymised: .accountDeleted))
        else { throw APIError.unauthorized() }
        return AccountDeleted()
    }
}
