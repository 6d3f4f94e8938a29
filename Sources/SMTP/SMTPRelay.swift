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

    public var host: String
    public var port: Int
    public var security: Security
    /// PEM file of the certificate authorities to trust instead of the system's (a private CA); nil: the system's.
    public var caFile: String?
    public var credentials: Credentials?
    /// The most one mail's whole exchange (connect, TLS, envelope, data) may take.
    public var timeoutSeconds: Int

    public init(host: String, port: Int, security: Security, caFile: String? = nil, credentials: Credentials? = nil,
                timeoutSeconds: Int) {
        self.host = host
        self.port = port
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
}
