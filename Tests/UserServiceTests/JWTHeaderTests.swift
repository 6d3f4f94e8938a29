import Crypto
import HTTP
import Testing
@testable import UserService

/// `JWT.verify` on its own: the header's algorithm pinned to its `kid`'s key, `crit` refused, and ES256 signatures
/// in their one low-S form.
@Suite struct JWTHeaderTests {
    let edDSA: SignatureKey
    let p256: SignatureKey
    let secret: HMACKey
    let payload = JSONValue.object([("sub", "u"), ("exp", 9_999_999_999)])

    init() throws {
        edDSA = try SignatureKey.generate(.ed25519)
        p256 = try SignatureKey.generate(.p256)
        secret = try HMACKey(Array(repeating: 0x73, count: 32))
    }

    var keys: [String: JWTKey] {
        ["ed": JWTKey(id: "ed", key: edDSA), "es": JWTKey(id: "es", key: p256), "hs": JWTKey(id: "hs", secret: secret)]
    }

    func token(_ header: [(String, JSONValue)], sign: ([UInt8]) throws -> [UInt8]) throws -> String {
        let input = Base64URL.encode(JSONValue.object(header).bytes) + "." + Base64URL.encode(payload.bytes)
        return input + "." + Base64URL.encode(try sign(Array(input.utf8)))
    }

    func token(alg: String, kid: String, sign: ([UInt8]) throws -> [UInt8]) throws -> String {
        try token([("alg", .string(alg)), ("typ", "JWT"), ("kid", .string(kid))], sign: sign)
    }

    /// Each token is signed by the key its `kid` names, so that key's own material verifies the signature: only the
    /// pinning check stands between the header's `alg` and acceptance.
    @Test func aHeaderNamingAnotherAlgorithmThanItsKeysIsRefused() throws {
        #expect(try JWT.verify(token(alg: "EdDSA", kid: "ed") { try edDSA.sign($0) }, keys: keys) == payload)
        #expect(try JWT.verify(token(alg: "ES256", kid: "es") { try p256.sign($0) }, keys: keys) == payload)
        #expect(try JWT.verify(token(alg: "HS256", kid: "hs") { try secret.authenticate($0) }, keys: keys) == payload)
        let mislabelled: [String] = [
            try token(alg: "ES256", kid: "ed") { try edDSA.sign($0) },
            try token(alg: "HS256", kid: "ed") { try edDSA.sign($0) },
            try token(alg: "EdDSA", kid: "es") { try p256.sign($0) },
            try token(alg: "HS256", kid: "es") { try p256.sign($0) },
            try token(alg: "EdDSA", kid: "hs") { try secret.authenticate($0) },
            try token(alg: "ES256", kid: "hs") { try secret.authenticate($0) },
        ]
        for token in mislabelled {
            #expect(throws: JWT.Failure.unsupportedAlgorithm, "\(token)") { try JWT.verify(token, keys: keys) }
        }
    }

    /// RFC 7515 §4.1.11: no extension is understood here, so any `crit` makes the token invalid, even when its
    /// signature is good.
    @Test func aHeaderWithCritIsRefused() throws {
        let crits: [JSONValue] = [.array(["exp"]), .array([]), "b64"]
        for crit in crits {
            let token = try token([("alg", "EdDSA"), ("typ", "JWT"), ("kid", "ed"), ("crit", crit), ("exp", 1)]) { try edDSA.sign($0) }
            #expect(throws: JWT.Failure.criticalExtension) { try JWT.verify(token, keys: keys) }
        }
    }

    /// ECDSA's `(r, s)` and `(r, n − s)` are both valid signatures: only the low-S one is written, and the other is
    /// refused, so a token cannot be re-signed into a second valid form without the key.
    @Test func es256SignaturesAreLowSOnly() throws {
        let publicKey = try SignatureKey(publicKeyPEM: try p256.publicKeyPEM())
        let input = Array("header.payload".utf8)
        for _ in 0..<64 {  // an ECDSA signature has a high s half the time
            let signature = try p256.sign(input)
            let s = Array(signature[32...])
            #expect(!Self.halfOrder.lexicographicallyPrecedes(s), "high s written")
            #expect(try publicKey.verify(signature, of: input))
            let high = Array(signature[..<32]) + Self.subtract(s, from: Self.order)
            #expect(try !publicKey.verify(high, of: input), "high-s form accepted")
        }
    }

    /// P-256's order n and ⌊n / 2⌋, big-endian.
    static let order: [UInt8] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    ]
    static let halfOrder: [UInt8] = [
        0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
    ]

    /// `a − b` for 32-byte big-endian numbers with `a ≥ b`.
    static func subtract(_ b: [UInt8], from a: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: a.count)
        var borrow = 0
        for index in stride(from: a.count - 1, through: 0, by: -1) {
            let difference = Int(a[index]) - Int(b[index]) - borrow
            out[index] = UInt8((difference + 256) % 256)
            borrow = difference < 0 ? 1 : 0
        }
        return out
    }
}
