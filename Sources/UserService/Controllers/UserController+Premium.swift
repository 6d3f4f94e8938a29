import HTTP

/// `POST /api/v1/users/me/upgrade` and `/downgrade`. Payment is out of scope: the upgrade is one repository call
/// (`UserRepository.upgradePremium`), the same a payment provider's webhook would make. SQL in
/// `UserRepository+Premium.swift`.
extension UserController {
    // MARK: POST /users/me/upgrade

    func upgrade(_ caller: Caller, _ context: RequestContext, _ body: UpgradeRequest) throws -> UserResponse {
        let event = SecurityEvent(.premiumUpgraded, userID: caller.user.id, request: context.request)
        // Gone or deactivated since the token was checked: as a revoked session would be answered.
        guard let user = try services.users.upgradePremium(userID: caller.user.id, plan: body.plan, event: event) else {
            throw APIError.unauthorized()
        }
        return UserResponse(user)
    }

    // MARK: POST /users/me/downgrade

    static let notPremium = "Not a premium account"

    func downgrade(_ caller: Caller, _ context: RequestContext) throws -> UserResponse {
        let event = SecurityEvent(.premiumDowngraded, userID: caller.user.id, request: context.request)
        switch try services.users.downgradePremium(userID: caller.user.id, event: event) {
        case .downgraded(let user): return UserResponse(user)
        case .notPremium: throw APIError(.conflict, Self.notPremium)
        case .gone: throw APIError.unauthorized()
        }
    }
}
