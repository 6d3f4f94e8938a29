import HTTP
/// The bodies of the mail flows (`/api/v1/auth/password-reset-*`, `verify-email`, `change-email`), each read and
/// described by its `init(reading:)`.

struct PasswordResetRequest: RequestModel {
    static let schemaName = "PasswordResetRequest"
    static let example: JSONValue? = .object([("email", "user@example.com")])
    let email: String

    init(reading body: inout FieldReader) { email = body.emailAddress("email") }
}

/// The new password's rules need the token's account, which the body does not name: the handler applies them.
struct PasswordResetConfirmRequest: RequestModel {
    static let schemaName = "PasswordResetConfirm"
    static let example: JSONValue? = .object([
        ("token", "q3Jm9cXvTt0y1wq8ZlC2bB8m5Rz4k7pQe1sD6fH0aUc"), ("new_password", "EvenBetterPass456"),
        ("confirm_password", "EvenBetterPass456"),
    ])
    let token: String
    let newPassword: String

    init(reading body: inout FieldReader) {
        token = body.mailToken()
        newPassword = body.string("new_password", maxLength: PasswordRules.maximumInputLength, format: "password")
        let confirmation = body.string("confirm_password", maxLength: PasswordRules.maximumInputLength, format: "password")
        if body.wasRead("new_password"), body.wasRead("confirm_password"), confirmation != newPassword {
            body.fail("confirm_password", "Value error, Passwords do not match")
        }
    }
}

struct VerifyEmailRequest: RequestModel {
    static let schemaName = "EmailVerification"
    static let example: JSONValue? = .object([("token", "q3Jm9cXvTt0y1wq8ZlC2bB8m5Rz4k7pQe1sD6fH0aUc")])
    let token: String

    init(reading body: inout FieldReader) { token = body.mailToken() }
}

struct ChangeEmailRequest: RequestModel {
    static let schemaName = "EmailChange"
    static let example: JSONValue? = .object([("new_email", "new.address@example.com"), ("password", "SecurePass123")])
    let newEmail: String
    let password: String

    init(reading body: inout FieldReader) {
        newEmail = body.emailAddress("new_email")
        password = body.string("password", maxLength: PasswordRules.maximumInputLength, format: "password")
    }
}

extension FieldReader {
    /// The token a reset or verification link carried (43 characters as issued; anything else is simply unknown).
    mutating func mailToken() -> String { string("token", maxLength: 128) }
}
