/// `JWT_ALGORITHM`, the HS256 secret, `JWT_PRIVATE_KEY_FILE` and `JWT_PREVIOUS_PUBLIC_KEY_FILES`: which key signs,
/// and which others still verify. Every key id is unique across secrets and key files.
extension Configuration {
    static func parseAlgorithm(_ text: String) throws(ConfigurationError) -> JWTAlgorithm {
        guard let algorithm = JWTAlgorithm(rawValue: text) else {
            throw ConfigurationError(variable: "JWT_ALGORITHM", problem: "must be HS256, EdDSA or ES256")
        }
        return algorithm
    }

    /// The HS256 secret, at least 32 bytes; empty: none (allowed only when another algorithm signs).
    static func parseSecret(_ text: String) throws(ConfigurationError) -> [UInt8]? {
        if text.isEmpty { return nil }
        guard text.utf8.count >= 32 else {
            throw ConfigurationError(variable: "JWT_SECRET_KEY", problem: "must be at least 32 bytes (generate one with: openssl rand -hex 32)")
        }
        return Array(text.utf8)
    }

    mutating func loadSigningKeys(algorithm: JWTAlgorithm, _ privateKeyFile: String, publicKeyFiles: String) throws(ConfigurationError) {
        jwtAlgorithm = algorithm
        switch (algorithm, privateKeyFile.isEmpty) {
        case (.hs256, true): jwtPrivateKey = nil
        case (.hs256, false):
            throw ConfigurationError(variable: "JWT_PRIVATE_KEY_FILE",
                                     problem: "is set but JWT_ALGORITHM is HS256 (list its public key in JWT_PREVIOUS_PUBLIC_KEY_FILES to keep its tokens verifying)")
        case (_, true): throw ConfigurationError(variable: "JWT_PRIVATE_KEY_FILE", problem: "is required when JWT_ALGORITHM is \(algorithm.rawValue)")
        case (_, false):
            let key = try KeyFile.privateKey(path: privateKeyFile, variable: "JWT_PRIVATE_KEY_FILE")
            guard key.algorithm == algorithm else {
                throw ConfigurationError(variable: "JWT_PRIVATE_KEY_FILE",
                                         problem: "holds a key for \(key.algorithm.rawValue), not for JWT_ALGORITHM \(algorithm.rawValue)")
            }
            jwtPrivateKey = key
        }
        var keyIDs = Set(jwtSecretKey == nil ? [] : [jwtKeyID]).union(jwtPreviousKeys.keys)
        if let jwtPrivateKey { try claim(jwtPrivateKey.keyID, in: &keyIDs, variable: "JWT_PRIVATE_KEY_FILE") }
        jwtPublicKeys = []
        for path in publicKeyFiles.split(separator: ",").map({ $0.trimmingWhitespace() }) where !path.isEmpty {
            let key = try KeyFile.publicKey(path: path, variable: "JWT_PREVIOUS_PUBLIC_KEY_FILES")
            try claim(key.keyID, in: &keyIDs, variable: "JWT_PREVIOUS_PUBLIC_KEY_FILES")
            jwtPublicKeys.append(key)
        }
    }

    /// Refuses a key id seen before: a key listed twice, or a secret's `kid` equal to a key's thumbprint.
    private func claim(_ keyID: String, in keyIDs: inout Set<String>, variable: String) throws(ConfigurationError) {
        guard keyIDs.insert(keyID).inserted else {
            throw ConfigurationError(variable: variable, problem: "repeats the key id \(keyID) (a key listed twice, or also the signing key)")
        }
    }
}
