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

    /// A key file is a few hundred bytes: anything over this is not one.
    static let maximumBytes = 64 * 1024

    /// `JWT_PRIVATE_KEY_FILE`: refused unless it is a regular file (not a symbolic link) of the service's user that
    /// only this user may read or write (`chmod 600`).
    static func privateKey(path: String, variable: String) throws(ConfigurationError) -> KeyFile {
        try read(path: path, variable: variable, isPrivate: true)
    }

    /// One entry of `JWT_PREVIOUS_PUBLIC_KEY_FILES`: a public key PEM (any permissions: nothing in it is secret),
    /// and nothing else: a file with private key material in it is refused.
    static func publicKey(path: String, variable: String) throws(ConfigurationError) -> KeyFile {
        try read(path: path, variable: variable, isPrivate: false)
    }

    private static func read(path: String, variable: String, isPrivate: Bool) throws(ConfigurationError) -> KeyFile {
        let pem: [UInt8]
        switch FileReader.readSmallFile(path, limit: maximumBytes, access: isPrivate ? .ownerOnly : .anyone) {
        case .success(let bytes): pem = bytes
        case .failure(let refusal): throw ConfigurationError(variable: variable, problem: problem(refusal) + named(path, isPrivate))
        }
        // PEM_read_bio_PUBKEY skips the blocks before a PUBLIC KEY one: a private key pasted above it would pass.
        if !isPrivate && pem.firstRange(of: Array("PRIVATE KEY-----".utf8)) != nil {
            throw ConfigurationError(variable: variable, problem: "holds private key material: list public key files only (the .pub that keys generate writes)" + named(path, isPrivate))
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

    private static func problem(_ refusal: FileReader.Refusal) -> String {
        switch refusal {
        case .cannotOpen: "names a file that cannot be read"
        case .symbolicLink: "names a symbolic link: name the key file itself"
        case .notRegularFile: "does not name a regular file"
        case .tooLarge(let limit): "names a file over \(limit / 1024) KiB, which no key file is"
        case .accessibleToOthers: "is readable or writable by group or others: make it readable by the service's user only (chmod 600)"
        case .ownedByAnotherUser: "belongs to another user than the one the service runs as: chown it to the service's user"
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
