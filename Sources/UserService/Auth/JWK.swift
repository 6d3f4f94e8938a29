import Crypto
import HTTP

/// Public keys as RFC 7517 JSON Web Keys (RFC 8037 for Ed25519), and their RFC 7638 thumbprints. Only public
/// members are ever written: `kty`, `crv`, `x`, `y`.
enum JWK {
    /// The required public members in the lexicographic order RFC 7638 §3.2 hashes them in.
    static func requiredMembers(of key: SignatureKey) throws -> [(String, JSONValue)] {
        let (x, y) = try key.publicComponents()
        switch key.kind {
        case .ed25519:
            return [("crv", "Ed25519"), ("kty", "OKP"), ("x", .string(Base64URL.encode(x)))]
        case .p256:
            return [("crv", "P-256"), ("kty", "EC"), ("x", .string(Base64URL.encode(x))), ("y", .string(Base64URL.encode(y ?? [])))]
        }
    }

    /// The base64url SHA-256 of the required members, serialised without whitespace (RFC 7638 §3).
    static func thumbprint(of key: SignatureKey) throws -> String {
        Base64URL.encode(try Digest.sha256(JSONValue.object(try requiredMembers(of: key)).bytes))
    }

    /// The key as a JWK for verifying signatures: its public members, `kid`, `alg` and `use: sig`.
    static func publicKey(_ key: SignatureKey, keyID: String) throws -> JSONValue {
        .object(try requiredMembers(of: key) + [("kid", .string(keyID)), ("alg", .string(JWTAlgorithm(key.kind).rawValue)), ("use", "sig")])
    }
}
