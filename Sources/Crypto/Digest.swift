internal import COpenSSL

/// SHA-256 and HMAC-SHA256 through OpenSSL's libcrypto.
public enum Digest {
    public static let sha256Length = 32

    public static func sha256<Bytes: Collection<UInt8>>(_ data: Bytes) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: sha256Length)
        var length: UInt32 = 0
        let ok = data.withContiguousBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                EVP_Digest(input.baseAddress, input.count, out.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        precondition(ok == 1 && length == UInt32(sha256Length), "EVP_Digest(SHA-256) failed")
        return output
    }

    public static func hmacSHA256<Key: Collection<UInt8>, Message: Collection<UInt8>>(key: Key, message: Message) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: sha256Length)
        var length: UInt32 = 0
        let result = key.withContiguousBytes { keyBytes in
            message.withContiguousBytes { messageBytes in
                output.withUnsafeMutableBufferPointer { out in
                    HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                         messageBytes.baseAddress, messageBytes.count, out.baseAddress, &length)
                }
            }
        }
        precondition(result != nil && length == UInt32(sha256Length), "HMAC-SHA256 failed")
        return output
    }
}

extension Collection<UInt8> {
    /// Calls `body` with the bytes in contiguous memory, copying only when the collection is not contiguous.
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let result = try withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(self).withUnsafeBytes(body)
    }
}
