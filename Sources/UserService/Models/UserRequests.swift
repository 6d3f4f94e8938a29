import HTTP
/// The bodies of `/api/v1/users/me`, each read and described by its `init(reading:)`.

/// `PUT /api/v1/users/me`: only the fields sent change. `full_name`, `current_title` and `location` are cleared by
/// `null` (or `""`: a field never set or cleared is null, never an empty string); `username` may change but not be
/// cleared. Any other member — the account's own facts, what an administrator owns — is refused by name, never ignored.
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

    let username: String?
    let fullName: Patch<String>
    let currentTitle: Patch<String>
    let location: Patch<String>

    init(reading body: inout FieldReader) {
        username = body.update("username", .matching("^[A-Za-z0-9_.-]{3,32}$", maxLength: 32, AccountRules.isValidUsername))
        fullName = body.patchString("full_name", maxLength: Self.fullNameMaxLength).emptyCleared
        currentTitle = body.patchString("current_title", maxLength: Self.currentTitleMaxLength).emptyCleared
        location = body.patchString("location", maxLength: Self.locationMaxLength).emptyCleared
        body.refuseUndeclared()
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
