/// A dictionary of common passwords, refused wherever a password is set. Built on first use (only register
/// and change-password need it), so the authenticated hot path never pays for it.
final class CommonPasswords {
    private var entries: Set<Substring>?

    func contains(_ password: String) -> Bool {
        if entries == nil { entries = Set(Self.list.split(separator: "\n")) }
        return entries!.contains(Substring(password.lowercased()))
    }
}

@available(*, unavailable)
extension CommonPasswords: Sendable {}
