internal import COpenSSL

/// An HMAC-SHA256 key set up once (`EVP_MAC_CTX` with the key), then reused for every message: fetching the
/// algorithm and expanding the key per call costs more than the MAC itself on the token-verification hot path.
public final class HMACKey {
    private let context: OpaquePointer

    public init(_ key: [UInt8]) throws(LibcryptoError) {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { throw LibcryptoError("EVP_MAC_fetch(HMAC)") }
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { throw LibcryptoError("EVP_MAC_CTX_new") }
        let ok = "digest".withCString { name in
            "SHA256".withCString { digest in
                var parameters = [
                    OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                    OSSL_PARAM_construct_end(),
                ]
                return key.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, $0.count, &parameters) }
            }
        }
        guard ok == 1 else {
            EVP_MAC_CTX_free(context)
            throw LibcryptoError("EVP_MAC_init(HMAC-SHA256)")
        }
        self.context = context
    }

    deinit { EVP_MAC_CTX_free(context) }

    /// HMAC-SHA256 of `message` under this key. Throws `LibcryptoError`.
    @inlinable
    public func authenticate<Message: Collection<UInt8>>(_ message: Message) throws -> [UInt8] {
        try message.withContiguousBytes { try authenticate(bytes: $0) }
    }

    @usableFromInline
    func authenticate(bytes: UnsafeRawBufferPointer) throws(LibcryptoError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Digest.sha256Length)
        var length = 0
        // > If key is NULL, the previously set key is reused (EVP_MAC_init, OpenSSL 3).
        let ok = output.withUnsafeMutableBufferPointer { out in
            EVP_MAC_init(context, nil, 0, nil) == 1
                && EVP_MAC_update(context, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count) == 1
                && EVP_MAC_final(context, out.baseAddress, &length, out.count) == 1
        }
        guard ok && length == Digest.sha256Length else { throw LibcryptoError("HMAC-SHA256") }
        return output
    }
}

@available(*, unavailable)
extension HMACKey: Sendable {}
