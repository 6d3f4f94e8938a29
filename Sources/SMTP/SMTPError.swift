/// A mail the relay did not accept, or could not be reached to take: libcurl's error and the relay's last reply
/// code. The text is libcurl's (it names the relay and the step that failed, never the password or the message).
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    /// libcurl's `CURLcode`.
    public let code: Int
    /// The relay's last reply code (e.g. 451, 550), when it answered at all.
    public let replyCode: Int?
    public let message: String

    public init(code: Int, replyCode: Int? = nil, message: String) {
        self.code = code
        self.replyCode = replyCode
        self.message = message
    }

    public var description: String {
        replyCode.map { "\(message) (SMTP reply \($0))" } ?? message
    }
}
