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
        // Deleted meanwhile (another device's deletion won): as a revoked session, and nothing counted.
        guard let hash = try services.users.hashedPassword(userID: caller.user.id) else { throw APIError.unauthorized() }
        // A wrong password counts against the same throttle as a login with the account's email, before bcrypt.
        if let wait = try services.throttle.attempt(caller.user.email) { throw AuthController.throttled(retryAfter: wait) }
        // bcrypt outside any transaction: the deletion below holds no lock while the password is checked.
        guard services.hasher.verify(body.password, hash: hash) else { throw APIError(.badRequest, "Incorrect password") }
        try services.throttle.reset(caller.user.email)
        // Only if the hash is still the one just checked: a password change committed meanwhile wins, and this
        // request fails as a revoked session would. The last active administrator: 409, thrown by the deletion.
        guard try services.users.delete(userID: caller.user.id, verifiedHash: hash, event: SecurityEvent(anonymised: .accountDeleted))
        else { throw APIError.unauthorized() }
        return AccountDeleted()
    }
}
