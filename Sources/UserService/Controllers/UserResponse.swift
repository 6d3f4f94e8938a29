import HTTP

/// The seed's `UserResponse`, written straight to bytes: it is the body of every `GET /me`.
enum UserResponse {
    static func make(_ user: UserRecord, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body(user))
    }

    static func body(_ user: UserRecord) -> [UInt8] {
        var writer = JSONObjectWriter()
        writer.field("id", user.id)
        writer.field("email", user.email)
        writer.field("username", user.username)
        writer.field("full_name", user.fullName)
        writer.field("is_active", user.isActive)
        writer.field("is_verified", user.isVerified)
        writer.field("is_premium", user.isPremium)
        writer.field("created_at", user.createdAt.iso8601)
        writer.field("updated_at", user.updatedAt.iso8601)
        writer.field("last_login", user.lastLogin?.iso8601)
        return writer.finish()
    }
}
