/// The rules for a password being set (register, change). Login never applies them.
public struct PasswordPolicy: Sendable, Equatable {
    public var minimumLength: Int
    public var requireUppercase: Bool
    public var requireLowercase: Bool
    public var requireDigit: Bool

    /// The problems with `password`, as messages for a 422; empty when it is acceptable.
    public func problems(with password: String, email: String?, username: String?) -> [String] {
        var problems: [String] = []
        // Characters are code points, as Pydantic and PostgreSQL count them.
        if password.unicodeScalars.count < minimumLength { problems.append("Password must be at least \(minimumLength) characters long") }
        if password.utf8.count > 72 { problems.append("Password must be at most 72 bytes long") }
        if password.utf8.contains(0) { problems.append("Password must not contain a NUL character") }
        if requireUppercase && !password.contains(where: \.isUppercase) { problems.append("Password must contain at least one uppercase letter") }
        if requireLowercase && !password.contains(where: \.isLowercase) { problems.append("Password must contain at least one lowercase letter") }
        if requireDigit && !password.contains(where: { $0.isASCII && $0.isNumber }) { problems.append("Password must contain at least one digit") }
        let lowered = password.lowercased()
        if let email, lowered == email.lowercased() { problems.append("Password must not be the same as the email") }
        if let username, lowered == username.lowercased() { problems.append("Password must not be the same as the username") }
        return problems
    }
}
