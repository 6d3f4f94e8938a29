import Crypto

/// The algorithms access tokens are signed with (`JWT_ALGORITHM`). Each key is pinned to one of them.
public enum JWTAlgorithm: String, Sendable, CaseIterable {
    case hs256 = "HS256"
    case edDSA = "EdDSA"
    case es256 = "ES256"

    /// The algorithm of a key of this kind.
    init(_ kind: SignatureKey.Kind) {
        switch kind {
        case .ed25519: self = .edDSA
        case .p256: self = .es256
        }
    }
}

/// A PEM key file named by the configuration, checked and read once: its algorithm follows from the key's type,
/// and its key id (`kid`) is the RFC 7638 thumbprint of its public key, so a private key and its public key file
/// always carry the same `kid`, and nothing has to be written beside a key to name it.
public struct KeyFile: Sendable, Equatable {
    public let path: String
    public let algorithm: JWTAlgorithm
    public let keyID: String
    /// The file's bytes: each worker makes its `SignatureKey` from them once, at start.
    let pem: [UInt8]
    let isPrivate: Bool

    /// The key these bytes hold (private for the signing key, public otherwise).
    func key() throws -> SignatureKey { try Self.key(pem, isPrivate: isPrivate) }

    private static func key(_ pem: [UInt8], isPrivate: Bool) throws -> SignatureKey {
        isPrivate ? try SignatureKey(privateKeyPEM: pem) : try SignatureKey(publicKeyPEM: pem)
    }

    /// `JWT_PRIVATE_KEY_FILE`: refused unless only its owner may read or write it (`chmod 600`).
    static func privateKey(path: String, variable: String) throws(ConfigurationError) -> KeyFile {
        guard let mode = FileReader.permissions(path) else { throw ConfigurationError(variable: variable, problem: "names a file that cannot be read") }
        guard mode & 0o077 == 0 else {
            throw ConfigurationError(variable: variable, problem: "is readable or writable by group or others: make it readable by the service's user only (chmod 600)")
        }
        return try read(path: path, variable: variable, isPrivate: true)
    }

    /// One entry of `JWT_PREVIOUS_PUBLIC_KEY_FILES`: a public key PEM (any permissions: nothing in it is secret).
    static func publicKey(path: String, variable: String) throws(ConfigurationError) -> KeyFile {
        try read(path: path, variable: variable, isPrivate: false)
    }

    private static func read(path: String, variable: String, isPrivate: Bool) throws(ConfigurationError) -> KeyFile {
        guard let pem = FileReader.readBytes(path) else {
            throw ConfigurationError(variable: variable, problem: "names a file that cannot be read" + named(path, isPrivate))
        }
        do {
            let key = try key(pem, isPrivate: isPrivate)
            return KeyFile(path: path, algorithm: JWTAlgorithm(key.kind), keyID: try JWK.thumbprint(of: key), pem: pem, isPrivate: isPrivate)
        } catch SignatureKey.Failure.unsupportedKind {
            throw ConfigurationError(variable: variable, problem: "holds a key that is neither Ed25519 nor ECDSA P-256" + named(path, isPrivate))
        } catch {
            let kind = isPrivate ? "an unencrypted PEM private key" : "a PEM public key"
            throw ConfigurationError(variable: variable, problem: "does not hold \(kind)" + named(path, isPrivate))
        }
    }

    /// A list of public key files names the one at fault; the private key's variable names a single file.
    private static func named(_ path: String, _ isPrivate: Bool) -> String {
        isPrivate ? "" : " (\(path))"
    }
}

extension KeyFile {
    /// A new key pair for `algorithm` as PEM files' contents, with the `kid` it will carry. HS256 has no key pair:
    /// `SignatureKey.Failure.unsupportedKind`.
    public static func generate(_ algorithm: JWTAlgorithm) throws -> (privateKey: [UInt8], publicKey: [UInt8], keyID: String) {
        let key: SignatureKey
        switch algorithm {
        case .edDSA: key = try SignatureKey.generate(.ed25519)
        case .es256: key = try SignatureKey.generate(.p256)
        case .hs256: throw SignatureKey.Failure.unsupportedKind
        }
        return (try key.privateKeyPEM(), try key.publicKeyPEM(), try JWK.thumbprint(of: key))
    }
}
