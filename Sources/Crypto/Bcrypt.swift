internal import CCrypt

/// bcrypt through libxcrypt (`crypt_gensalt_rn` and `crypt_rn`).
///
/// Hashes are `$2b$`; `$2a$` and `$2y$` hashes made elsewhere (Python's `bcrypt`, passlib) verify too.
public enum Bcrypt {
    public static let maximumPasswordBytes = 72
    /// The dearest cost verified or made (≈ 4 s per hash on the reference machine, 2^4 × cost 12): a stored hash of
    /// a higher cost — an imported one, say — would let one login attempt occupy a password worker for hours.
    public static let maximumCost = 16

    public enum Failure: Error, Equatable {
        case invalidCost
        case invalidPassword
    }

    /// What bcrypt reads of a password: its first 72 bytes, as bytes (a multi-byte character cut at byte 72
    /// stays cut, as passlib and Python's bcrypt cut it), up to a NUL, where a C string ends.
    public static func phrase(_ password: String) -> [UInt8] {
        Array(password.utf8.prefix(maximumPasswordBytes).prefix { $0 != 0 })
    }

    /// Hashes `password` with a fresh salt. The caller has already refused passwords over 72 bytes or with a NUL.
    /// Throws `Failure`, or `LibcryptoError` when no random salt can be had.
    public static func hash(_ password: String, cost: Int) throws -> String {
        guard password.utf8.count <= maximumPasswordBytes, !password.utf8.contains(0) else { throw Failure.invalidPassword }
        return try hash(phrase: phrase(password), cost: cost)
    }

    /// Hashes the bytes bcrypt reads (see `phrase(_:)`) with a fresh salt.
    public static func hash(phrase: [UInt8], cost: Int) throws -> String {
        guard (4...maximumCost).contains(cost) else { throw Failure.invalidCost }
        guard phrase.count <= maximumPasswordBytes, !phrase.contains(0) else { throw Failure.invalidPassword }
        var salt = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        let random = try SecureRandom.bytes(16)
        let made = random.withUnsafeBufferPointer { entropy in
            crypt_gensalt_rn("$2b$", UInt(cost), entropy.baseAddress, Int32(entropy.count), &salt, Int32(salt.count))
        }
        guard made != nil else { throw Failure.invalidCost }
        let setting = String(decoding: salt.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let hash = crypt(phrase, setting: setting) else { throw Failure.invalidCost }
        return hash
    }

    /// Checks `password` against `hash` as passlib did: bcrypt reads only the first 72 bytes.
    public static func verify(_ password: String, hash: String) -> Bool {
        guard hash.hasPrefix("$2a$") || hash.hasPrefix("$2b$") || hash.hasPrefix("$2y$"),
              let cost = cost(of: hash), cost <= maximumCost else { return false }
        guard let computed = crypt(phrase(password), setting: hash) else { return false }
        return ConstantTime.equals(Array(computed.utf8), Array(hash.utf8))
    }

    /// The cost a bcrypt hash was made with (`$2b$12$...` → 12), or nil for anything else.
    public static func cost(of hash: String) -> Int? {
        let fields = hash.utf8.split(separator: UInt8(ascii: "$"), maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].isEmpty, fields[2].count >= 2,
              fields[2].prefix(2).allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(String(decoding: fields[2].prefix(2), as: UTF8.self))
    }

    /// `crypt_rn` with a heap-allocated `struct crypt_data` (about 32 KiB: too big for the stack).
    private static func crypt(_ phrase: [UInt8], setting: String) -> String? {
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer {
            UnsafeMutableRawPointer(data).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
            data.deallocate()
        }
        UnsafeMutableRawPointer(data).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
        // > Upon error, crypt_r, crypt_rn, and crypt_ra write an invalid hashed passphrase to the output field
        // > of their data argument, and crypt writes an invalid hash to its static storage area.
        // > This string will be shorter than 13 characters, will begin with a ‘*’
        let terminated = phrase.map { CChar(bitPattern: $0) } + [0]
        guard let result = crypt_rn(terminated, setting, data, Int32(MemoryLayout<crypt_data>.size)) else { return nil }
        let text = String(cString: result)
        return text.hasPrefix("*") ? nil : text
    }
}
