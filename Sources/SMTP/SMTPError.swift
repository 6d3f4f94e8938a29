/// A mail the relay did not accept, or could not be reached to take: libcurl's error and the relay's last reply
/// code. The text is libcurl's (it names the relay and the step that failed, never the password, the message or the
/// relay's own reply text, which may echo the message's data): what the outbox records as the mail's last error.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    /// libcurl's `CURLcode`.
    public let code: Int
    /// The relay's last reply code (e.g. 451, 550), when it answered at all.
    public let replyCode: Int?
    public let message: String
    /// The relay refused this mail for good (a 5xx reply to its envelope or data), as opposed to a passing refusal
    /// (4xx), a failed connection or TLS handshake, or a refused login (a setting to fix, not a mail to give up).
    public let isPermanentRejection: Bool

    public init(code: Int, replyCode: Int? = nil, message: String, isPermanentRejection: Bool = false) {
        self.code = code
        self.replyCode = replyCode
        self.message = message
        self.isPermanentRejection = isPermanentRejection
    }

    public var description: String {
        replyCode.map { "\(message) (SMTP reply \($0))" } ?? message
    }
}
