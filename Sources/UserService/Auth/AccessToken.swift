import Crypto
import HTTP

/// The claims of an access token this service issued and verified.
struct AccessTokenClaims: Equatable {
    let userID: String
    let sessionID: String
    let issuedAt: Int64
    let expiresAt: Int64
    let tokenID: String
}

/// Issues and verifies access tokens: JWTs with `sub`, `sid`, `iat`, `exp`, `iss`, `aud`, `jti`, `type` (`iss` and
/// `aud` only when configured: sibling services of the replaced one verify without an audience), signed by the key
/// of `JWT_ALGORITHM` (the HS256 secret by default); every configured secret and public key verifies.
struct AccessTokens {
    static let leewaySeconds: Int64 = 30

    let signingKey: JWTKey
    /// Every key that verifies, by `kid`.
    let keys: [String: JWTKey]
    /// The key pairs' keys, the signing key first: what `GET /.well-known/jwks.json` publishes.
    let publishedKeys: [JWTKey]
    let issuer: String?
    let audience: String?
    let lifetimeSeconds: Int64
    /// The exact header segment this service writes for each key, to skip parsing it on the hot path.
    let knownHeaders: [(segment: [UInt8], key: JWTKey)]

    /// Reads the key files' bytes into libcrypto keys, once per worker.
    init(configuration: Configuration) throws {
        var secrets: [JWTKey] = []
        if let secret = configuration.jwtSecretKey { secrets.append(JWTKey(id: configuration.jwtKeyID, secret: try HMACKey(secret))) }
        for (id, secret) in configuration.jwtPreviousKeys.sorted(by: { $0.key < $1.key }) {
            secrets.append(JWTKey(id: id, secret: try HMACKey(secret)))
        }
        let signing = try configuration.jwtPrivateKey.map { JWTKey(id: $0.keyID, key: try $0.key()) }
        publishedKeys = (signing.map { [$0] } ?? []) + (try configuration.jwtPublicKeys.map { JWTKey(id: $0.keyID, key: try $0.key()) })
        // Configuration guarantees a secret when HS256 signs, and unique key ids.
        guard let signingKey = signing ?? secrets.first else { throw SignatureKey.Failure.noPrivateKey }
        self.signingKey = signingKey
        keys = Dictionary((secrets + publishedKeys).map { ($0.id, $0) }) { first, _ in first }
        issuer = configuration.jwtIssuer
        audience = configuration.jwtAudience
        lifetimeSeconds = Int64(configuration.accessTokenExpireMinutes) * 60
        knownHeaders = keys.values.map { (Array($0.encodedHeader.utf8), $0) }
    }

    func issue(userID: String, sessionID: String, now: Int64 = Clock.unixSeconds()) throws -> String {
        var claims: [(String, JSONValue)] = [
            ("sub", .string(userID)), ("sid", .string(sessionID)),
            ("iat", .integer(Int(now))), ("exp", .integer(Int(now + lifetimeSeconds))),
        ]
        if let issuer { claims.append(("iss", .string(issuer))) }
        if let audience { claims.append(("aud", .string(audience))) }
        claims += [("jti", .string(Base64URL.encode(try SecureRandom.bytes(16)))), ("type", "access")]
        let payload = JSONValue.object(claims)
        return try JWT.sign(payload: payload, key: signingKey)
    }

    /// The claims of a valid access token, or nil: bad signature, unknown key, expired, wrong issuer,
    /// audience or type all look the same to the caller. Throws only when libcrypto fails.
    func verify(_ token: String, now: Int64 = Clock.unixSeconds()) throws -> AccessTokenClaims? {
        let payload: JSONValue
        do {
            payload = try JWT.verify(token, keys: keys, knownHeaders: knownHeaders)
        } catch is JWT.Failure {
            return nil
        }
        guard case .string(let subject)? = payload["sub"], case .string(let session)? = payload["sid"],
              case .integer(let expires)? = payload["exp"], case .integer(let issued)? = payload["iat"],
              payload["type"] == "access", Int64(expires) + Self.leewaySeconds > now
        else { return nil }
        if let issuer, payload["iss"] != .string(issuer) { return nil }
        if let audience {
            switch payload["aud"] {
            case .string(let value)? where value == audience: break
            case .array(let values)? where values.contains(.string(audience)): break
            default: return nil
            }
        }
        let tokenID: String
        if case .string(let value)? = payload["jti"] { tokenID = value } else { tokenID = "" }
        return AccessTokenClaims(userID: subject, sessionID: session, issuedAt: Int64(issued), expiresAt: Int64(expires), tokenID: tokenID)
    }
}

/// Opaque tokens (refresh, password-reset and email-verification tokens): 256 random bits in Base64URL, handed out
/// once and stored only as their SHA-256.
enum OpaqueToken {
    static func generate() throws -> (token: String, hash: [UInt8]) {
        let token = Base64URL.encode(try SecureRandom.bytes(32))
        return (token, try hash(token))
    }

    static func hash(_ token: String) throws -> [UInt8] { try Digest.sha256(Array(token.utf8)) }
}
