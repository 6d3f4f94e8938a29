import HTTP
/// The answers of `/api/v1/admin/users`, each written and described by its `write(to:)`.

/// A user as an administrator sees one: the fields of `UserResponse`, and `is_admin`.
struct AdminUserResponse: ResponseModel {
    static let schemaName = "AdminUser"
    static let example = AdminUserResponse(.example)
    let user: UserRecord

    init(_ user: UserRecord) { self.user = user }

    func write(to object: inout FieldWriter) {
        UserResponse(user).write(to: &object)
        object.field("is_admin", user.isAdmin)
    }
}

/// A security event as an administrator sees it: with `actor_id`, the administrator who acted (null when the
/// account's owner did, or the command line).
struct AdminSecurityEventResponse: ResponseModel {
    static let schemaName = "AdminSecurityEvent"
    static let example = AdminSecurityEventResponse(.example)
    let event: AdminRepository.Event

    init(_ event: AdminRepository.Event) { self.event = event }

    func write(to object: inout FieldWriter) {
        object.field("id", event.id)
        object.field("type", event.type)
        object.field("actor_id", event.actorID, format: "uuid")
        object.field("ip_address", event.ipAddress)
        object.field("user_agent", event.userAgent)
        object.field("created_at", event.createdAt.iso8601, format: "date-time")
    }
}

/// `GET /api/v1/admin/users/{user_id}`: the user, the extended profile (its defaults when never saved), the live
/// sessions (newest first) and the most recent security events (newest first).
struct AdminUserDetail: ResponseModel {
    static let schemaName = "AdminUserDetail"
    static let example = AdminUserDetail(user: .example, profile: .example, sessions: [.example], recentEvents: [.example])
    let user: AdminUserResponse
    let profile: ProfileResponse
    let sessions: [SessionResponse]
    let recentEvents: [AdminSecurityEventResponse]

    func write(to object: inout FieldWriter) {
        object.field("user", user)
        object.field("profile", profile)
        object.field("sessions", sessions)
        object.field("recent_events", recentEvents)
    }
}

/// `POST /api/v1/admin/users/{user_id}/revoke-sessions`.
struct AdminSessionsRevoked: ResponseModel {
    static let schemaName = "AdminSessionsRevoked"
    static let example = AdminSessionsRevoked(userID: UserRecord.example.id, sessionsRevoked: 2)
    let userID: String
    let sessionsRevoked: Int

    func write(to object: inout FieldWriter) {
        object.field("user_id", userID, format: "uuid")
        object.field("sessions_revoked", sessionsRevoked)
    }
}
