internal import COpenSSL

public enum SecureRandom {
    /// `count` bytes from OpenSSL's CSPRNG (`RAND_bytes`).
    public static func bytes(_ count: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        let ok = output.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return output
    }
}
