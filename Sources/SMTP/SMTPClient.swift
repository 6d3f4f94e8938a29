internal import CCurl

/// Hands messages to one SMTP relay through libcurl. Owns one easy handle, so consecutive mails reuse the
/// relay's connection while it stays open. One client per mailer process, one mail at a time.
///
/// The message bytes are sent as given (libcurl adds only the dot-stuffing and the final `.`): they must already
/// be a complete RFC 5322 message with CRLF line endings.
public final class SMTPClient {
    private let handle: UnsafeMutableRawPointer
    /// libcurl writes a readable message here when a call fails: it must live as long as the handle.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// > This function must be called at least once within a program [...] before the program calls any other
    /// > function in libcurl. [...] not thread safe. (curl_global_init) — the mailer calls it before any thread.
    private static let globalInit = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    public init(relay: SMTPRelay) throws(SMTPError) {
        guard Self.globalInit == CURLE_OK, let handle = curl_easy_init() else {
            throw SMTPError(code: Int(CURLE_FAILED_INIT.rawValue), message: "libcurl could not be initialised")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try configure(relay)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    private func configure(_ relay: SMTPRelay) throws(SMTPError) {
        try check(ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        try check(ccurl_setopt_string(handle, CURLOPT_URL, relay.url))
        // Nothing but SMTP, whatever a URL could say.
        try check(ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps"))
        // > CURLOPT_USE_SSL: CURLUSESSL_ALL - Require SSL for all communication or fail with CURLE_USE_SSL_FAILED.
        let useSSL = relay.security == .none ? CURLUSESSL_NONE : CURLUSESSL_ALL
        try check(ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int(useSSL.rawValue)))
        // Certificate verification is always on: the peer's chain and its name.
        try check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        try check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        if let caFile = relay.caFile {
            // Instead of the system's authorities, not beside them: Debian's libcurl also has a built-in CApath
            // (/etc/ssl/certs), which setting CAINFO alone leaves in use.
            // > CURLOPT_CAPATH: Set CURLOPT_CAPATH to NULL to disable the use of a default path.
            try check(ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile))
            try check(ccurl_setopt_string(handle, CURLOPT_CAPATH, nil))
        }
        // > CURLOPT_UNIX_SOCKET_PATH: [...] connect to this Unix domain socket instead of establishing a TCP
        // > connection to the host. [...] the URL's host name is still used (e.g. to greet and verify the peer).
        if let socket = relay.unixSocket { try check(ccurl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket)) }
        if let credentials = relay.credentials {
            try check(ccurl_setopt_string(handle, CURLOPT_USERNAME, credentials.username))
            try check(ccurl_setopt_string(handle, CURLOPT_PASSWORD, credentials.password))
        }
        try check(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, relay.timeoutSeconds))
        try check(ccurl_setopt_long(handle, CURLOPT_TIMEOUT, relay.timeoutSeconds))
        // > CURLOPT_NOSIGNAL: libcurl will not use any functions that install signal handlers or any functions that
        // > cause signals to be sent to the process. (The mailer ignores SIGPIPE itself.)
        try check(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        try check(ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1))
        try check(ccurl_setopt_read_function(handle, readMessage))
    }

    /// Sends one message from `sender` to `recipient` (bare addresses: `name@domain`). Returns once the relay has
    /// accepted it (its reply to the end of the data); throws otherwise.
    public func send(_ message: [UInt8], from sender: String, to recipient: String) throws(SMTPError) {
        errorBuffer[0] = 0
        let reader = MessageReader(message)
        // > CURLOPT_MAIL_RCPT: a linked list of recipients [...] each recipient in RFC 5321 form (<addr>).
        guard let recipients = curl_slist_append(nil, "<\(recipient)>") else {
            throw SMTPError(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "out of memory")
        }
        defer {
            _ = ccurl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, nil)
            _ = ccurl_setopt_pointer(handle, CURLOPT_READDATA, nil)
            curl_slist_free_all(recipients)
        }
        try check(ccurl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(sender)>"))
        try check(ccurl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(recipients)))
        let code = withExtendedLifetime(reader) {
            _ = ccurl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(reader).toOpaque())
            return curl_easy_perform(handle)
        }
        try check(code)
    }

    private func check(_ code: CURLcode) throws(SMTPError) {
        guard code != CURLE_OK else { return }
        var reply = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &reply)
        let detail = String(cString: errorBuffer)
        throw SMTPError(code: Int(code.rawValue), replyCode: reply > 0 ? reply : nil,
                        message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail,
                        isPermanentRejection: (500...599).contains(reply) && code != CURLE_LOGIN_DENIED)
    }
}

@available(*, unavailable)
extension SMTPClient: Sendable {}

/// The message handed to libcurl piece by piece through `readMessage`.
private final class MessageReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        let count = min(capacity, bytes.count - offset)
        bytes.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}

/// > CURLOPT_READFUNCTION: [...] copy data to the buffer pointed to by buffer, size multiplied with nitems [...]
/// > Your function must then return the actual number of bytes that it stored in that memory area. Returning 0
/// > will signal end-of-file.
private let readMessage: curl_read_callback = { buffer, size, items, context in
    guard let buffer, let context else { return Int(CURL_READFUNC_ABORT) }
    return Unmanaged<MessageReader>.fromOpaque(context).takeUnretainedValue().read(into: buffer, capacity: size * items)
}
