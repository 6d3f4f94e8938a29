import HTTP
/// The bodies and queries of `/api/v1/auth`, each read and described by its `init(reading:)`.

struct RegisterRequest: RequestModel {
    static let schemaName = "UserCreate"
    static let example: JSONValue? = .object([
        ("email", "user@example.com"), ("username", "testuser"), ("full_name", "Test User"),
        ("password", "SecurePass123"), ("confirm_password", "SecurePass123"),
    ])
    let email: String
    let username: String
    let fullName: String?
    let password: String

    init(reading body: inout FieldReader) {
        email = body.emailAddress("email")
        username = body.string("username", maxLength: 32)
        fullName = body.optionalString("full_name", maxLength: 200)
        if body.wasRead("username"), !AccountRules.isValidUsername(username) { body.fail("username", "Value error, \(AccountRules.usernameMessage)") }
        password = body.newPassword("password", email: email, username: username)
        let confirmation = body.string("confirm_password", maxLength: PasswordRules.maximumInputLength, format: "password")
        if body.wasRead("password"), body.wasRead("confirm_password"), confirmation != password {
            body.fail("confirm_password", "Value error, Passwords do not match")
        }
    }
}

extension FieldReader {
    /// A required email address, trimmed and lower-cased as it is stored; one that is not an address is a problem.
    mutating func emailAddress(_ field: String) -> String {
        let email = string(field, maxLength: 254, format: "email").trimmingWhitespace().lowercased()
        if wasRead(field), !AccountRules.isValidEmail(email) {
            fail(field, AccountRules.emailProblem(email))
        }
        return email
    }
}

struct LoginRequest: RequestModel {
    static let schemaName = "UserLogin"
    static let example: JSONValue? = .object([("email", "user@example.com"), ("password", "SecurePass123")])
    /// An email or a username.
    let login: String
    let password: String

    init(reading body: inout FieldReader) {
        login = body.string("email", maxLength: 254)
        password = body.string("password", maxLength: PasswordRules.maximumInputLength, format: "password")
    }
}

struct RefreshRequest: RequestModel {
    static let schemaName = "RefreshTokenRequest"
    let refreshToken: String

    init(reading body: inout FieldReader) { refreshToken = body.string("refresh_token", maxLength: 128) }
}

/// The new password's rules need the caller's account, which the body does not name: the handler applies them.
struct ChangePasswordRequest: RequestModel {
    static let schemaName = "PasswordChange"
    static let example: JSONValue? = .object([
        ("current_password", "SecurePass123"), ("new_password", "EvenBetterPass456"), ("confirm_password", "EvenBetterPass456"),
    ])
    let currentPassword: String
    let newPassword: String
    let confirmation: String

    init(reading body: inout FieldReader) {
        currentPassword = body.string("current_password", maxLength: PasswordRules.maximumInputLength, format: "password")
        newPassword = body.string("new_password", maxLength: PasswordRules.maximumInputLength, format: "password")
        confirmation = body.string("confirm_password", maxLength: PasswordRules.maximumInputLength, format: "password")
        if body.wasRead("new_password"), body.wasRead("confirm_password"), confirmation != newPassword {
            body.fail("confirm_password", "Value error, Passwords do not match")
        }
        if body.wasRead("new_password"), body.wasRead("current_password"), currentPassword == newPassword {
            body.fail("new_password", "Value error, New password must differ from the current one")
        }
    }
}

struct EventsQuery: QueryModel {
    let limit: Int
    let offset: Int

    init(reading query: inout QueryReader) {
        limit = query.integer("limit", default: 20, range: 1...100)
        offset = query.integer("offset", default: 0, range: 0...1_000_000)
    }
}
