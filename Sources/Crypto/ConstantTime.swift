internal import COpenSSL

public enum ConstantTime {
    /// Compares two byte strings in time that depends only on their lengths (`CRYPTO_memcmp`).
    public static func equals<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withContiguousBytes { left in
            b.withContiguousBytes { right in
                CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0
            }
        }
    }
}
