internal import COpenSSL

public enum SecureRandom {
    /// `count` bytes from OpenSSL's CSPRNG (`RAND_bytes`).
    public static func bytes(_ count: Int) throws(LibcryptoError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        let ok = output.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else { throw LibcryptoError("RAND_bytes") }
        return output
    }
}
