internal import COpenSSL

/// A libcrypto call that failed. Answered as any internal error is (a 500 on a request path), never a process
/// abort. Carries the library's own error codes, drained from its thread's error queue (as swift-nio-ssl's
/// `BoringSSLError.buildErrorStack` does), so the next call does not see them.
public struct LibcryptoError: Error, Equatable, CustomStringConvertible {
    public let function: String
    /// `ERR_get_error` codes, oldest first.
    public let codes: [UInt]

    init(_ function: String) {
        self.function = function
        var codes: [UInt] = []
        while case let code = ERR_get_error(), code != 0 { codes.append(code) }
        self.codes = codes
    }

    public var description: String {
        "libcrypto \(function) failed" + (codes.isEmpty ? "" : " (" + codes.map { String($0, radix: 16) }.joined(separator: ", ") + ")")
    }
}
