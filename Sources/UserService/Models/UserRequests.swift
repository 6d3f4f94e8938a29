import HTTP
/// The bodies of `/api/v1/users/me`, each read and described by its `init(reading:)`.

/// `PUT /api/v1/users/me`: only the fields sent change. `full_name`, `current_title` and `location` are cleared by
/// `null` (or `""`: a field never set or cleared is null, never an empty string); `username` may change but not be
/// cleared. Fields the caller does not own are refused by name, never ignored.
struct UpdateUserRequest: RequestModel {
    static let schemaName = "UserUpdate"
    /// The seed README's "Update Profile" body.
    static let example: JSONValue? = .object([
        ("full_name", "Updated Name"), ("current_title", "Software Engineer"), ("location", "San Francisco, CA"),
    ])
    /// Lengths in code points, the same as the columns' CHECK constraints (migrations 0001 and 0005).
    static let fullNameMaxLength = 200
    static let currentTitleMaxLength = 100
    static let locationMaxLength = 100
    /// The account's own facts and what an administrator owns: sent, each is a 422 naming it.
    static let refusedFields = ["id", "email", "is_active", "is_verified", "is_premium", "premium_plan", "premium_expires_at", "is_admin", "created_at", "updated_at",
                                "last_login", "hashed_password", "password"]

    let username: String?
    let fullName: Patch<String>
    let currentTitle: Patch<String>
    let location: Patch<String>

    init(reading body: inout FieldReader) {
        username = body.update("username", .matching("^[A-Za-z0-9_.-]{3,32}$", maxLength: 32, AccountRules.isValidUsername))
        fullName = Self.emptyClears(body.patchString("full_name", maxLength: Self.fullNameMaxLength))
        currentTitle = Self.emptyClears(body.patchString("current_title", maxLength: Self.currentTitleMaxLength))
        location = Self.emptyClears(body.patchString("location", maxLength: Self.locationMaxLength))
        body.refuse(Self.refusedFields)
    }

    private static func emptyClears(_ patch: Patch<String>) -> Patch<String> {
        if case .value("") = patch { return .null }
        return patch
    }
}

/// `DELETE /api/v1/users/me`: the account's password, checked again before anything is deleted.
struct DeleteAccountRequest: RequestModel {
    static let schemaName = "AccountDelete"
    static let example: JSONValue? = .object([("password", "SecurePass123")])
    let password: String

    init(reading body: inout FieldReader) {
        password = body.string("password", maxLength: PasswordRules.maximumInputLength, format: "password")
    }
}
