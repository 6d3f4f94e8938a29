import HTTP
/// The answers of `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`.

/// The published public keys as an RFC 7517 JWK Set: the signing key's first, then the earlier ones that still
/// verify; empty when HS256 signs and no key file is listed (a secret is never published). Only public members.
struct KeySet: ResponseBody {
    static let contentType = "application/json"
    static let jwkSchema = ObjectSchema(name: "JWK", properties: [
        .init(name: "kty", schema: .string(values: ["OKP", "EC"]), required: true),
        .init(name: "crv", schema: .string(values: ["Ed25519", "P-256"]), required: true),
        .init(name: "x", schema: .string(), required: true),
        .init(name: "y", schema: .string(), required: false),
        .init(name: "kid", schema: .string(), required: true),
        .init(name: "alg", schema: .string(values: [JWTAlgorithm.edDSA.rawValue, JWTAlgorithm.es256.rawValue]), required: true),
        .init(name: "use", schema: .string(values: ["sig"]), required: true),
    ])
    static var bodySchema: Schema {
        .object(ObjectSchema(name: "JWKSet", properties: [.init(name: "keys", schema: .array(.object(jwkSchema)), required: true)]))
    }
    /// RFC 8037 appendix A.2's public key, with its RFC 7638 thumbprint (A.3) as `kid`.
    static let exampleBody: [UInt8]? = JSONValue.object([("keys", .array([.object([
        ("crv", "Ed25519"), ("kty", "OKP"), ("x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
        ("kid", "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"), ("alg", "EdDSA"), ("use", "sig"),
    ])]))]).bytes

    let body: [UInt8]

    init(_ keys: [JWTKey]) throws {
        body = JSONValue.object([("keys", .array(try keys.compactMap { key in
            try key.publicKey.map { try JWK.publicKey($0, keyID: key.id) }
        }))]).bytes
    }
}

/// OpenID Connect Discovery's minimum for verifiers: who issues the tokens, where the keys are, which algorithms
/// sign them (the service is not an OpenID provider: it issues no ID tokens and has no authorization endpoint).
struct OpenIDConfiguration: ResponseModel {
    static let schemaName = "OpenIDConfiguration"
    static let example = OpenIDConfiguration(issuer: "user-service", jwksURI: "https://auth.example.com/.well-known/jwks.json",
                                             algorithms: [JWTAlgorithm.edDSA.rawValue, JWTAlgorithm.es256.rawValue])
    /// `JWT_ISSUER`, the tokens' `iss`; nil when tokens carry no `iss`.
    let issuer: String?
    let jwksURI: String
    /// The published keys' algorithms, the signing key's first (HS256's secret is never published).
    let algorithms: [String]

    /// Built from the request's `Host` unless `JWT_ISSUER` is a URL.
    var headers: [(String, String)] { [("Content-Type", Self.contentType), ("Vary", "Host")] }

    func write(to object: inout FieldWriter) {
        object.field("issuer", issuer)
        object.field("jwks_uri", jwksURI, format: "uri")
        object.field("id_token_signing_alg_values_supported", algorithms)
    }
}
