import Crypto

/// bcrypt at the configured cost, counted in `/metrics`, and the dummy check that makes an unknown login cost
/// what a known one does.
final class PasswordHasher {
    let cost: Int
    private let metrics: ServiceMetrics
    /// Made when the worker starts, at the configured cost, so no login pays for it.
    private let dummyHash: String

    init(cost: Int, metrics: ServiceMetrics) throws {
        self.cost = cost
        self.metrics = metrics
        metrics.recordPasswordHash()
        dummyHash = try Bcrypt.hash(phrase: try SecureRandom.bytes(16).map { $0 % 94 + 33 }, cost: cost)
    }

    func hash(_ password: String) throws -> String {
        metrics.recordPasswordHash()
        return try Bcrypt.hash(password, cost: cost)
    }

    func verify(_ password: String, hash: String) -> Bool {
        metrics.recordPasswordHash()
        return Bcrypt.verify(password, hash: hash)
    }

    /// Spends the same work as checking a real password, for logins whose account does not exist.
    func verifyAgainstDummy(_ password: String) { _ = verify(password, hash: dummyHash) }

    /// When `hash` (which `password` was just verified against) is cheaper than the configured cost, a new hash
    /// of the same bytes bcrypt read at the configured cost, as passlib's `needs_update` would have it; nil
    /// otherwise. The cost only ever goes up, and the rules for new passwords do not apply.
    func upgrade(_ password: String, verifiedAgainst hash: String) throws -> String? {
        guard let current = Bcrypt.cost(of: hash), current < cost else { return nil }
        metrics.recordPasswordHash()
        return try Bcrypt.hash(phrase: Bcrypt.phrase(password), cost: cost)
    }
}

@available(*, unavailable)
extension PasswordHasher: Sendable {}
