internal import COpenSSL

/// An HMAC-SHA256 key set up once (`EVP_MAC_CTX` with the key), then reused for every message: fetching the
/// algorithm and expanding the key per call costs more than the MAC itself on the token-verification hot path.
public final class HMACKey {
    private let context: OpaquePointer

    public init(_ key: [UInt8]) {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { fatalError("OpenSSL has no HMAC") }
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { fatalError("EVP_MAC_CTX_new failed") }
        let ok = "digest".withCString { name in
            "SHA256".withCString { digest in
                var parameters = [
                    OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                    OSSL_PARAM_construct_end(),
                ]
                return key.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, $0.count, &parameters) }
            }
        }
        precondition(ok == 1, "EVP_MAC_init(HMAC-SHA256) failed")
        self.context = context
    }

    deinit { EVP_MAC_CTX_free(context) }

    /// HMAC-SHA256 of `message` under this key.
    @inlinable
    public func authenticate<Message: Collection<UInt8>>(_ message: Message) -> [UInt8] {
        message.withContiguousBytes { authenticate(bytes: $0) }
    }

    @usableFromInline
    func authenticate(bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Digest.sha256Length)
        var length = 0
        // > If key is NULL, the previously set key is reused (EVP_MAC_init, OpenSSL 3).
        let ok = output.withUnsafeMutableBufferPointer { out in
            EVP_MAC_init(context, nil, 0, nil) == 1
                && EVP_MAC_update(context, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count) == 1
                && EVP_MAC_final(context, out.baseAddress, &length, out.count) == 1
        }
        precondition(ok && length == Digest.sha256Length, "HMAC-SHA256 failed")
        return output
    }
}

@available(*, unavailable)
extension HMACKey: Sendable {}
