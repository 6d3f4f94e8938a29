/// Where and how mail is handed over: the relay's address, how the connection is protected, who logs in.
public struct SMTPRelay: Sendable, Equatable {
    public enum Security: String, Sendable, CaseIterable {
        /// Plain SMTP upgraded with STARTTLS before anything else is sent; a relay that does not offer it is refused.
        case starttls
        /// TLS from the first byte (SMTPS, usually port 465).
        case tls
        /// No encryption (a relay on the same host or a private network only).
        case none
    }

    /// A login; the password never appears in a description.
    public struct Credentials: Sendable, Equatable, CustomStringConvertible {
        public let username: String
        public let password: String
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
        public var description: String { "\(username) (password hidden)" }
    }

    /// A host name or an IP address (checked by `isHostName`).
    public var host: String
    public var port: Int
    /// A unix socket to connect to instead of `host:port` (make run's local server); `host` still names the relay.
    public var unixSocket: String?
    public var security: Security
    /// PEM file of the certificate authorities to trust instead of the system's (a private CA); nil: the system's.
    public var caFile: String?
    public var credentials: Credentials?
    /// The most one mail's whole exchange (connect, TLS, envelope, data) may take.
    public var timeoutSeconds: Int

    public init(host: String, port: Int, unixSocket: String? = nil, security: Security, caFile: String? = nil,
                credentials: Credentials? = nil, timeoutSeconds: Int) {
        self.host = host
        self.port = port
        self.unixSocket = unixSocket
        self.security = security
        self.caFile = caFile
        self.credentials = credentials
        self.timeoutSeconds = timeoutSeconds
    }

    /// libcurl's URL for the relay: `smtps://` for TLS from the start, `smtp://` otherwise; an IPv6 address in
    /// brackets. No path: libcurl then greets the relay (EHLO) with this host's name.
    public var url: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return "\(security == .tls ? "smtps" : "smtp")://\(name):\(port)"
    }

    /// A DNS name (letters, digits, `-` in dot-separated labels), an IPv4 address or an IPv6 address (hex digits,
    /// `:` and `.`, without brackets): nothing a URL could read as a login (`user:pass@`), a port, a path or a query.
    public static func isHostName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        if bytes.contains(UInt8(ascii: ":")) {
            return bytes.allSatisfy { isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
        }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count) && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isHexDigit($0) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == UInt8(ascii: "-") }
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66)
    }
}
