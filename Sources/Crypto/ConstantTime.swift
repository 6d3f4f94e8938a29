internal import COpenSSL

public enum ConstantTime {
    /// Compares two byte strings in time that depends only on their lengths (`CRYPTO_memcmp`).
    @inlinable
    public static func equals<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        a.withContiguousBytes { left in b.withContiguousBytes { equals(bytes: left, right: $0) } }
    }

    @usableFromInline
    static func equals(bytes left: UnsafeRawBufferPointer, right: UnsafeRawBufferPointer) -> Bool {
        guard left.count == right.count else { return false }
        if left.isEmpty { return true }
        return CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0
    }
}
