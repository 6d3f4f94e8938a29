import HTTP

extension Services {
    /// The caller's password asked for again before a change that needs more than a token (deleting the account,
    /// changing its address): the stored hash it matched, which the change then claims the account with (a password
    /// change committed meanwhile wins). A wrong password counts against the same throttle as a login with the
    /// account's email, counted before bcrypt; bcrypt runs outside any transaction.
    func confirmPassword(_ password: String, of caller: Caller) throws -> String {
        // Deleted meanwhile: as a revoked session, and nothing counted.
        guard let hash = try users.hashedPassword(userID: caller.user.id) else { throw APIError.unauthorized() }
        if let wait = try throttle.attempt(caller.user.email) { throw AuthController.throttled(retryAfter: wait) }
        guard hasher.verify(password, hash: hash) else { throw APIError(.badRequest, "Incorrect password") }
        try throttle.reset(caller.user.email)
        return hash
    }
}
