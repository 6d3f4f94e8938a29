import HTTP

/// `/api/v1/admin/users`: administrators list, read and act on accounts. Every route is `access: .admin` (checked
/// against the caller's row loaded with the session, before the handler). Routes and their attributes are in
/// `Routes.swift`; queries, bodies and answers in `Models/Admin*.swift`; SQL in `AdminRepository`.
struct AdminController {
    let services: Services
    private var admin: AdminRepository {
        AdminRepository(database: services.database, events: services.events, sessions: services.sessions)
    }

    static let userNotFound = APIError(.notFound, "User not found")
    static let notPremium = APIError(.conflict, "User has no premium subscription")
    /// How many of the user's security events `GET /admin/users/{user_id}` shows.
    static let recentEventCount = 20

    /// The `{user_id}` of the path, as FastAPI checks a `UUID` parameter: 422 `loc: ["path", "user_id"]` otherwise.
    static func userID(_ context: RequestContext) throws(ValidationError) -> String {
        let text = context.parameter("user_id")
        guard UUIDText.isValid(text) else {
            throw ValidationError([ValidationIssue(location: ["path", "user_id"], message: "Input should be a valid UUID",
                                                   type: "uuid_parsing")])
        }
        return text.lowercased()
    }

    /// The caller, named in every event an action records, with the request's address and user agent.
    static func actor(_ caller: Caller, _ context: RequestContext) -> AdminRepository.Actor {
        AdminRepository.Actor(id: caller.user.id, request: context.request)
    }

    // MARK: GET /admin/users, GET /admin/users/{user_id}

    func list(_ caller: Caller, _ context: RequestContext, _ query: AdminUsersQuery) throws -> Page<AdminUserResponse> {
        let page = try admin.list(query)
        return Page(items: page.users.map(AdminUserResponse.init), total: page.total, limit: query.limit, offset: query.offset)
    }

    func show(_ caller: Caller, _ context: RequestContext) throws -> AdminUserDetail {
        let id = try Self.userID(context)
        guard let user = try admin.find(userID: id) else { throw Self.userNotFound }
        return AdminUserDetail(
            user: AdminUserResponse(user), profile: ProfileResponse(try services.profiles.find(userID: id) ?? .empty),
            sessions: try services.sessions.live(userID: id).map { SessionResponse(session: $0, isCurrent: $0.id == caller.sessionID) },
            recentEvents: try admin.recentEvents(userID: id, limit: Self.recentEventCount).map(AdminSecurityEventResponse.init))
    }

    // MARK: POST /admin/users/{user_id}/activate|deactivate|verify|unverify|promote|demote, PUT|DELETE .../premium

    private func apply(_ action: AdminRepository.Action, _ caller: Caller, _ context: RequestContext) throws -> AdminUserResponse {
        let id = try Self.userID(context)
        do {
            guard let outcome = try admin.apply(action, userID: id, actor: Self.actor(caller, context)) else { throw Self.userNotFound }
            return AdminUserResponse(outcome.user)
        } catch is AdminRepository.NotPremium {
            throw Self.notPremium
        }
    }

    func activate(_ caller: Caller, _ context: RequestContext) throws -> AdminUserResponse { try apply(.activate, caller, context) }
    func deactivate(_ caller: Caller, _ context: RequestContext) throws -> AdminUserResponse { try apply(.deactivate, caller, context) }
    func verify(_ caller: Caller, _ context: RequestContext) throws -> AdminUserResponse { try apply(.verify, caller, context) }
    func unverify(_ caller: Caller, _ context: RequestContext) throws -> AdminUserResponse { try apply(.unverify, caller, context) }
    func promote(_ caller: Caller, _ context: RequestContext) throws -> AdminUserResponse { try apply(.promote, caller, context) }
    func demote(_ caller: Caller, _ context: RequestContext) throws -> AdminUserResponse { try apply(.demote, caller, context) }

    func grantPremium(_ caller: Caller, _ context: RequestContext, _ body: GrantPremiumRequest) throws -> AdminUserResponse {
        try apply(.grantPremium(plan: body.plan, end: body.end), caller, context)
    }

    func endPremium(_ caller: Caller, _ context: RequestContext) throws -> AdminUserResponse { try apply(.endPremium, caller, context) }

    // MARK: POST /admin/users/{user_id}/revoke-sessions, DELETE /admin/users/{user_id}

    func revokeSessions(_ caller: Caller, _ context: RequestContext) throws -> AdminSessionsRevoked {
        let id = try Self.userID(context)
        guard let count = try admin.revokeSessions(userID: id, actor: Self.actor(caller, context)) else { throw Self.userNotFound }
        return AdminSessionsRevoked(userID: id, sessionsRevoked: count)
    }

    func delete(_ caller: Caller, _ context: RequestContext) throws -> Message {
        let id = try Self.userID(context)
        guard try admin.delete(userID: id, actor: Self.actor(caller, context)) else { throw Self.userNotFound }
        return Message("User deleted")
    }
}
