import HTTP
/// Every rule for a password being set (register, change): the configured policy, then the common-password list.
final class PasswordRules {
    /// Longer inputs are refused before any rule runs (the policy's own limit is 72 bytes).
    static let maximumInputLength = 1024

    private let policy: PasswordPolicy
    private let commonPasswords = CommonPasswords()

    init(policy: PasswordPolicy) { self.policy = policy }

    /// The problems with `password`, as 422 messages; empty when it may be set.
    func problems(with password: String, email: String?, username: String?) -> [String] {
        let problems = policy.problems(with: password, email: email, username: username)
        if problems.isEmpty && commonPasswords.contains(password) {
            return ["Password is too common: choose one that is harder to guess"]
        }
        return problems
    }

    /// The rules for a password the body's model could not check (the account it is for is not in the body:
    /// change-password, a reset): FastAPI's 422 naming `field`.
    func check(_ password: String, email: String, username: String, field: String) throws(ValidationError) {
        let problems = problems(with: password, email: email, username: username)
        if !problems.isEmpty {
            throw ValidationError(problems.map { ValidationIssue(location: ["body", .string(field)], message: "Value error, \($0)", type: "value_error") })
        }
    }
}

@available(*, unavailable)
extension PasswordRules: Sendable {}
