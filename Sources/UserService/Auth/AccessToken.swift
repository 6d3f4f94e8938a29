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

/// Issues and verifies access tokens: HS256 JWTs with `sub`, `sid`, `iat`, `exp`, `iss`, `aud`, `jti`, `type`
/// (`iss` and `aud` only when configured: sibling services of the replaced one verify without an audience).
struct AccessTokens {
    static let leewaySeconds: Int64 = 30

    let keyID: String
    let signingKey: HMACKey
    let keys: [String: HMACKey]
    let issuer: String?
    let audience: String?
    let lifetimeSeconds: Int64
    /// The exact header segment this service writes for each key, to skip parsing it on the hot path.
    let knownHeaders: [(segment: [UInt8], key: HMACKey)]

    init(configuration: Configuration) throws {
        keyID = configuration.jwtKeyID
        signingKey = try HMACKey(configuration.jwtSecretKey)
        keys = try configuration.jwtPreviousKeys.mapValues(HMACKey.init).merging([keyID: signingKey]) { _, current in current }
        issuer = configuration.jwtIssuer
        audience = configuration.jwtAudience
        lifetimeSeconds = Int64(configuration.accessTokenExpireMinutes) * 60
        knownHeaders = keys.map { (Array(JWT.encodedHeader(keyID: $0.key).utf8), $0.value) }
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
        return try JWT.sign(payload: payload, keyID: keyID, key: signingKey)
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
