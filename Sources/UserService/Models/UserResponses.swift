import HTTP
/// The answers of `/api/v1/users/me` besides the user itself (`UserResponse`).

/// `DELETE /api/v1/users/me`.
struct AccountDeleted: ResponseModel {
    static let schemaName = "AccountDeleted"
    static let example = AccountDeleted()

    func write(to object: inout FieldWriter) { object.field("message", "Account deleted") }
}
