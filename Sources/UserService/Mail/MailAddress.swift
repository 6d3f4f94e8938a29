/// An address mail is sent from or to: `local@domain` in plain ASCII (RFC 5321's dot-atom form, no quoted local
/// part, no address literal), and for the sender an optional display name (`MAIL_FROM="User Service <no-reply@example.com>"`).
/// Anything else — spaces, `<`, `>`, commas, CR or LF — is refused, so no value can add a header or a recipient.
public struct MailAddress: Sendable, Equatable {
    /// `local@domain`, as given to the relay in the envelope and written in the headers.
    public let address: String
    public let displayName: String?

    /// The part after `@`: the right-hand side of each `Message-ID`.
    public var domain: Substring { address[address.index(after: address.lastIndex(of: "@")!)...] }

    /// `name@domain`, or `Display Name <name@domain>`.
    public init?(mailbox text: String) {
        let trimmed = text.trimmingWhitespace()
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            var name = trimmed[..<open].trimmingWhitespace()
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            // A display name is text for people: no control characters (CR, LF, tab), no quotes or backslashes.
            guard Self.isValid(address),
                  name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F && $0 != "\"" && $0 != "\\" })
            else { return nil }
            self.address = address
            displayName = name.isEmpty ? nil : name
        } else {
            guard Self.isValid(trimmed) else { return nil }
            address = trimmed
            displayName = nil
        }
    }

    /// A recipient: a bare address.
    public init?(recipient: String) {
        guard Self.isValid(recipient) else { return nil }
        address = recipient
        displayName = nil
    }

    /// The mailbox as a header writes it: the display name in quotes (ASCII) or as RFC 2047 encoded words.
    var header: String {
        guard let displayName else { return address }
        let name = displayName.utf8.allSatisfy({ $0 < 0x80 }) ? "\"\(displayName)\"" : MIMEEncoding.encodedWords(displayName).joined(separator: "\r\n ")
        return "\(name) <\(address)>"
    }

    /// RFC 5321 `Mailbox` without quoted local parts or address literals: a dot-atom of `atext` of at most 64 octets,
    /// `@`, a domain of letter-digit-hyphen labels (1 to 63 octets, no hyphen first or last), at most 254 octets in
    /// all. ASCII only: an internationalized address needs SMTPUTF8 all the way to the mailbox, which the service
    /// does not promise (registration refuses such addresses, `AccountRules.isValidEmail`).
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let local = bytes[..<at], domain = bytes[(at + 1)...]
        return local.count <= 64 && isDotAtom(local, allowed: isAtext)
            && isDotAtom(domain) { isLetterOrDigit($0) || $0 == UInt8(ascii: "-") }
            && domain.split(separator: UInt8(ascii: "."))
                .allSatisfy { $0.count <= 63 && $0.first != UInt8(ascii: "-") && $0.last != UInt8(ascii: "-") }
    }

    private static func isDotAtom(_ bytes: ArraySlice<UInt8>, allowed: (UInt8) -> Bool) -> Bool {
        let atoms = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return !bytes.isEmpty && atoms.allSatisfy { !$0.isEmpty && $0.allSatisfy(allowed) }
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// RFC 5322 `atext`.
    private static func isAtext(_ byte: UInt8) -> Bool {
        isLetterOrDigit(byte) || "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
    }
}
