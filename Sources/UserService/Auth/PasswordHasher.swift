import Crypto

/// bcrypt at the configured cost, and the dummy check that makes an unknown login cost what a known one does.
final class PasswordHasher {
    let cost: Int
    private var dummyHash: String?

    init(cost: Int) { self.cost = cost }

    func hash(_ password: String) throws -> String { try Bcrypt.hash(password, cost: cost) }

    func verify(_ password: String, hash: String) -> Bool { Bcrypt.verify(password, hash: hash) }

    /// Spends the same work as checking a real password, for logins whose account does not exist.
    func verifyAgainstDummy(_ password: String) {
        if dummyHash == nil { dummyHash = try? Bcrypt.hash("dummy-password-for-timing", cost: cost) }
        _ = Bcrypt.verify(password, hash: dummyHash ?? "")
    }
}

@available(*, unavailable)
extension PasswordHasher: Sendable {}
