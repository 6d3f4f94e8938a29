import Crypto
import HTTP

/// One key that signs or verifies access tokens, pinned to its algorithm: HS256 for a secret, EdDSA or ES256 for
/// a key pair's key. A token whose header names another algorithm than its key's is refused before any signature
/// work, so a public key is never used as an HMAC secret, and `none` matches no key.
struct JWTKey {
    enum Material {
        case secret(HMACKey)
        case signature(SignatureKey)
    }

    let id: String
    let algorithm: JWTAlgorithm
    let material: Material
    /// The header this service writes with this key, base64url-encoded: `{"alg","typ","kid"}`.
    let encodedHeader: String

    init(id: String, secret: HMACKey) {
        self.init(id: id, algorithm: .hs256, material: .secret(secret))
    }

    init(id: String, key: SignatureKey) {
        self.init(id: id, algorithm: JWTAlgorithm(key.kind), material: .signature(key))
    }

    private init(id: String, algorithm: JWTAlgorithm, material: Material) {
        self.id = id
        self.algorithm = algorithm
        self.material = material
        encodedHeader = Base64URL.encode(JSONValue.object([("alg", .string(algorithm.rawValue)), ("typ", "JWT"), ("kid", .string(id))]).bytes)
    }

    /// The key pair's key, for publishing; nil for a secret, which is never published.
    var publicKey: SignatureKey? {
        if case .signature(let key) = material { return key }
        return nil
    }

    /// Throws `LibcryptoError`, or `SignatureKey.Failure.noPrivateKey` for a key read from a public key file.
    func sign(_ input: [UInt8]) throws -> [UInt8] {
        switch material {
        case .secret(let key): return try key.authenticate(input)
        case .signature(let key): return try key.sign(input)
        }
    }

    /// Throws only when libcrypto fails (`LibcryptoError`).
    func verify(_ signature: [UInt8], of input: ArraySlice<UInt8>) throws -> Bool {
        switch material {
        case .secret(let key): return ConstantTime.equals(try key.authenticate(input), signature)
        case .signature(let key): return try key.verify(signature, of: input)
        }
    }
}

@available(*, unavailable)
extension JWTKey: Sendable {}
