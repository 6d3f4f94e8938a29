internal import COpenSSL

/// SHA-256 through OpenSSL's libcrypto (HMAC-SHA256: `HMACKey`).
public enum Digest {
    public static let sha256Length = 32

    // The generic entry points are inlinable so that callers in other modules get them specialised; the work
    // is in the non-generic functions over raw bytes.

    @inlinable
    /// Throws `LibcryptoError`.
    public static func sha256<Bytes: Collection<UInt8>>(_ data: Bytes) throws -> [UInt8] {
        try data.withContiguousBytes { try sha256(bytes: $0) }
    }

    @usableFromInline
    static func sha256(bytes input: UnsafeRawBufferPointer) throws(LibcryptoError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: sha256Length)
        var length: UInt32 = 0
        let ok = output.withUnsafeMutableBufferPointer { out in
            EVP_Digest(input.baseAddress, input.count, out.baseAddress, &length, EVP_sha256(), nil)
        }
        guard ok == 1 && length == UInt32(sha256Length) else { throw LibcryptoError("EVP_Digest(SHA-256)") }
        return output
    }
}

extension Collection<UInt8> {
    /// Calls `body` with the bytes in contiguous memory, copying only when the collection is not contiguous.
    @inlinable
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let result = try withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(self).withUnsafeBytes(body)
    }
}
