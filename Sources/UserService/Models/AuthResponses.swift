import HTTP
/// The answers of `/api/v1/auth`, each written and described by its `write(to:)`.

/// The seed's `UserResponse`: the body of `/api/v1/auth/me` and `/api/v1/users/me`, written straight to bytes.
struct UserResponse: ResponseModel {
    static let schemaName = "UserResponse"
    static let example = UserResponse(UserRecord.example)
    let user: UserRecord

    init(_ user: UserRecord) { self.user = user }

    func write(to object: inout FieldWriter) {
        object.field("id", user.id, format: "uuid")
        object.field("email", user.email, format: "email")
        object.field("username", user.username)
        object.field("full_name", user.fullName)
        object.field("current_title", user.currentTitle)
        object.field("location", user.location)
        object.field("is_active", user.isActive)
        object.field("is_verified", user.isVerified)
        object.field("is_premium", user.isPremium)
        object.field("premium_plan", user.premiumPlan)
        object.field("premium_expires_at", user.premiumExpiresAt?.iso8601, format: "date-time")
        object.field("created_at", user.createdAt.iso8601, format: "date-time")
        object.field("updated_at", user.updatedAt.iso8601, format: "date-time")
        object.field("last_login", user.lastLogin?.iso8601, format: "date-time")
    }
}

struct TokenResponse: ResponseModel {
    static let schemaName = "Token"
    static let example = TokenResponse(accessToken: "a.b.c", refreshToken: "r", expiresIn: 1800)
    let accessToken: String
    let refreshToken: String
    let expiresIn: Int

    func write(to object: inout FieldWriter) {
        object.field("access_token", accessToken)
        object.field("refresh_token", refreshToken)
        object.field("token_type", "bearer")
        object.field("expires_in", expiresIn)
    }
}

struct LogoutAllResponse: ResponseModel {
    static let schemaName = "LogoutAllResponse"
    static let example = LogoutAllResponse(sessionsRevoked: 1)
    let sessionsRevoked: Int

    func write(to object: inout FieldWriter) {
        object.field("message", "Logged out from all devices")
        object.field("sessions_revoked", sessionsRevoked)
    }
}

struct SessionResponse: ResponseModel {
    static let schemaName = "SessionResponse"
    static let example = SessionResponse(session: .example, isCurrent: true)
    let session: SessionRepository.SessionInfo
    let isCurrent: Bool

    func write(to object: inout FieldWriter) {
        session.writeDevice(to: &object)
        object.field("is_active", true)
        object.field("is_current", isCurrent)
    }
}

extension SessionRepository.SessionInfo {
    /// What every answer about a session shows: its id, device, address and times.
    func writeDevice(to object: inout FieldWriter) {
        object.field("id", id, format: "uuid")
        object.field("user_agent", userAgent)
        object.field("ip_address", ipAddress)
        object.field("created_at", createdAt.iso8601, format: "date-time")
        object.field("last_activity", lastSeenAt.iso8601, format: "date-time")
        object.field("expires_at", expiresAt.iso8601, format: "date-time")
    }
}

struct SecurityEventResponse: ResponseModel {
    static let schemaName = "SecurityEvent"
    static let example = SecurityEventResponse(event: .example)
    let event: SecurityEventRepository.EventRecord

    func write(to object: inout FieldWriter) {
        object.field("id", event.id)
        object.field("type", event.type)
        object.field("ip_address", event.ipAddress)
        object.field("user_agent", event.userAgent)
        object.field("created_at", event.createdAt.iso8601, format: "date-time")
    }
}
