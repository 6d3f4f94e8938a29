public import SMTP

/// The mail settings: the relay, the sender, the links, the templates, retries and retention. Read and checked with
/// the rest of the configuration by every command; only the mailer needs a relay, a sender and a base URL
/// (`delivery()`), so the pool and cleanup start without them.
public struct MailSettings: Sendable {
    public var smtpHost: String?
    public var smtpPort: Int
    public var smtpUnixSocket: String?
    public var smtpSecurity: SMTPRelay.Security
    public var smtpCAFile: String?
    public var smtpCredentials: SMTPRelay.Credentials?
    public var smtpTimeoutSeconds: Int
    public var from: MailAddress?
    /// The front end's address the links start with, without a trailing `/`.
    public var publicBaseURL: String?
    public var templatesDirectory: String
    public var retry: RetrySchedule
    /// Sent, given-up and dropped mail older than this is deleted by `user-service cleanup`.
    public var retentionDays: Int
    /// The mailer's longest wait between rounds: the safety net should a notification be missed (LISTEN/NOTIFY
    /// wakes it at once on new mail).
    public var pollSeconds: Int

    /// What delivering mail needs; an error names the first variable missing.
    public func delivery() throws(ConfigurationError) -> (relay: SMTPRelay, from: MailAddress, publicBaseURL: String) {
        guard let smtpHost else { throw ConfigurationError(variable: "SMTP_HOST", problem: "is required to send mail") }
        guard let from else { throw ConfigurationError(variable: "MAIL_FROM", problem: "is required to send mail") }
        guard let publicBaseURL else {
            throw ConfigurationError(variable: "PUBLIC_BASE_URL", problem: "is required to send mail (the front end's address the links start with)")
        }
        return (SMTPRelay(host: smtpHost, port: smtpPort, unixSocket: smtpUnixSocket, security: smtpSecurity, caFile: smtpCAFile,
                          credentials: smtpCredentials, timeoutSeconds: smtpTimeoutSeconds), from, publicBaseURL)
    }

    static func load(_ reader: Configuration.Reader) throws(ConfigurationError) -> MailSettings {
        let securityText = reader.string("SMTP_SECURITY", default: SMTPRelay.Security.starttls.rawValue)
        guard let security = SMTPRelay.Security(rawValue: securityText) else {
            throw ConfigurationError(variable: "SMTP_SECURITY", problem: "must be starttls, tls or none")
        }
        let username = reader.optional("SMTP_USERNAME"), password = reader.optional("SMTP_PASSWORD")
        guard (username == nil) == (password == nil) else {
            throw ConfigurationError(variable: username == nil ? "SMTP_USERNAME" : "SMTP_PASSWORD",
                                     problem: "is required with \(username == nil ? "SMTP_PASSWORD" : "SMTP_USERNAME")")
        }
        guard username == nil || security != .none else {
            throw ConfigurationError(variable: "SMTP_USERNAME", problem: "needs SMTP_SECURITY starttls or tls (a password is never sent in clear)")
        }
        let host = reader.optional("SMTP_HOST")
        if let host, !SMTPRelay.isHostName(host) {
            throw ConfigurationError(variable: "SMTP_HOST", problem: "must be a host name or an IP address (no login, port or path)")
        }
        let unixSocket = reader.optional("SMTP_UNIX_SOCKET")
        if let unixSocket, !unixSocket.hasPrefix("/") {
            throw ConfigurationError(variable: "SMTP_UNIX_SOCKET", problem: "must be an absolute path")
        }
        var from: MailAddress?
        if let text = reader.optional("MAIL_FROM") {
            guard let address = MailAddress(mailbox: text) else {
                throw ConfigurationError(variable: "MAIL_FROM", problem: "must be name@domain or Display Name <name@domain>")
            }
            from = address
        }
        var publicBaseURL: String?
        if let text = reader.optional("PUBLIC_BASE_URL") {
            guard let url = baseURL(text) else {
                throw ConfigurationError(variable: "PUBLIC_BASE_URL",
                                         problem: "must be an http:// or https:// address with a host and no query or fragment")
            }
            publicBaseURL = url
        }
        let maximumDelay = try reader.integer("MAIL_RETRY_MAX_SECONDS", default: 60, range: 10...86_400)
        let attempts = reader.optional("MAIL_MAX_ATTEMPTS") == nil
            ? nil : try reader.integer("MAIL_MAX_ATTEMPTS", default: 1, range: 1...100_000)
        return MailSettings(
            smtpHost: host,
            smtpPort: try reader.integer("SMTP_PORT", default: security == .tls ? 465 : 587, range: 1...65_535),
            smtpUnixSocket: unixSocket,
            smtpSecurity: security,
            smtpCAFile: reader.optional("SMTP_CA_FILE"),
            smtpCredentials: username.flatMap { name in password.map { SMTPRelay.Credentials(username: name, password: $0) } },
            smtpTimeoutSeconds: try reader.integer("SMTP_TIMEOUT_SECONDS", default: 30, range: 1...600),
            from: from,
            publicBaseURL: publicBaseURL,
            templatesDirectory: reader.string("MAIL_TEMPLATES_DIR", default: "mail/templates"),
            retry: RetrySchedule(maximumDelaySeconds: maximumDelay, maximumAttempts: attempts),
            retentionDays: try reader.integer("MAIL_RETENTION_DAYS", default: 30, range: 1...3650),
            pollSeconds: try reader.integer("MAIL_POLL_SECONDS", default: 30, range: 1...86_400))
    }

    /// `http(s)://host[:port][/path]` without a trailing `/`; nil for anything else (a query, a fragment, spaces,
    /// control characters, user information).
    static func baseURL(_ text: String) -> String? {
        var url = Substring(text)
        while url.hasSuffix("/") { url = url.dropLast() }
        guard let scheme = ["https://", "http://"].first(where: { url.hasPrefix($0) }) else { return nil }
        let rest = url.dropFirst(scheme.count)
        let host = rest.prefix { $0 != "/" }
        let allowed = "-._~!$&'()*+,;=:@/%[]"
        guard !host.isEmpty, !host.contains("@"), host.first != ":",
              rest.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || allowed.unicodeScalars.contains($0)) })
        else { return nil }
        return String(url)
    }
}

extension Configuration.Reader {
    /// Unset or empty: nil.
    func optional(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }
}
