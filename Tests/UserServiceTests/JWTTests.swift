import Crypto
import HTTP
import Testing
@testable import UserService

@Suite struct JWTTests {
    /// RFC 7515 appendix A.1: the HS256 example, verified with its JWK key. Its header has no `kid`, which this
    /// service always writes and requires; it verifies through the byte-for-byte header match that the service
    /// uses for its own headers (`AccessTokens.knownHeaders`), which picks the key without a `kid`.
    @Test func rfc7515ExampleVerifies() throws {
        let key = try HMACKey(Base64URL.decode(Array("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow".utf8))!)
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        let known = [(segment: Array(token.utf8.prefix { $0 != UInt8(ascii: ".") }), key: JWTKey(id: "only", secret: key))]
        let payload = try JWT.verify(token, keys: [:], knownHeaders: known)
        #expect(payload["iss"] == "joe")
        #expect(payload["exp"] == .integer(1_300_819_380))
        #expect(payload["http://example.com/is_root"] == .bool(true))
        var tampered = token
        tampered.removeLast()
        tampered += "A"
        #expect(throws: JWT.Failure.badSignature) { try JWT.verify(tampered, keys: [:], knownHeaders: known) }
        // Without a kid the key cannot be chosen from the key map.
        #expect(throws: JWT.Failure.unknownKey) { try JWT.verify(token, keys: ["only": JWTKey(id: "only", secret: key)]) }
    }

    func tokens(secret: String = String(repeating: "s", count: 32), minutes: Int = 30,
                extra: [String: String] = [:]) throws -> AccessTokens {
        try AccessTokens(configuration: try Configuration.load(from: [
            "DATABASE_URL": "x", "JWT_SECRET_KEY": secret, "ACCESS_TOKEN_EXPIRE_MINUTES": String(minutes),
        ].merging(extra) { $1 }, defaultWorkers: 1))
    }

    /// JWT_AUDIENCE= and JWT_ISSUER= set empty: the claims are neither written nor required.
    @Test func emptyAudienceAndIssuerAreNeitherWrittenNorRequired() throws {
        let compatible = try tokens(extra: ["JWT_AUDIENCE": "", "JWT_ISSUER": ""])
        let token = try compatible.issue(userID: "u", sessionID: "s", now: 1_000_000)
        let payload = try JWT.verify(token, keys: compatible.keys)
        #expect(payload["aud"] == nil && payload["iss"] == nil)
        #expect(try compatible.verify(token, now: 1_000_001) != nil)
        // The default still writes and requires both.
        let strict = try tokens()
        let strictToken = try strict.issue(userID: "u", sessionID: "s", now: 1_000_000)
        #expect(try JWT.verify(strictToken, keys: strict.keys)["aud"] == "user-service")
        #expect(try strict.verify(token, now: 1_000_001) == nil)
    }

    /// The header is parsed before the signature is checked: its size and shape are bounded first.
    @Test func oversizedTokensAndHeadersAreRefusedBeforeParsing() throws {
        let issuer = try tokens()
        let key = Array(String(repeating: "s", count: 32).utf8)
        let claims = JSONValue.object([("sub", "u"), ("sid", "s"), ("iat", 0), ("exp", 9_999_999_999)])
        let long = try forge(.object([("alg", "HS256"), ("kid", "1"), ("pad", .string(String(repeating: "x", count: 5000)))]), claims, key: key)
        #expect(throws: JWT.Failure.malformed) { try JWT.verify(long, keys: issuer.keys) }
        let wide = JSONValue.object([("alg", "HS256"), ("kid", "1")] + (0..<20).map { ("k\($0)", JSONValue.integer($0)) })
        #expect(throws: JWT.Failure.malformed) { try JWT.verify(try forge(wide, claims, key: key), keys: issuer.keys) }
    }

    @Test func issuedTokensVerifyWithTheirClaims() throws {
        let issuer = try tokens()
        let token = try issuer.issue(userID: "u-1", sessionID: "s-1", now: 1_000_000)
        let claims = try #require(try issuer.verify(token, now: 1_000_100))
        #expect(claims.userID == "u-1" && claims.sessionID == "s-1")
        #expect(claims.expiresAt == 1_000_000 + 1800 && claims.issuedAt == 1_000_000)
        #expect(!claims.tokenID.isEmpty)
        #expect(try issuer.issue(userID: "u-1", sessionID: "s-1", now: 1_000_000) != token)  // fresh jti
    }

    @Test func expiryHasASmallLeeway() throws {
        let issuer = try tokens(minutes: 1)
        let token = try issuer.issue(userID: "u", sessionID: "s", now: 0)
        #expect(try issuer.verify(token, now: 60 + 29) != nil)
        #expect(try issuer.verify(token, now: 60 + 30) == nil)
    }

    func forge(_ header: JSONValue, _ payload: JSONValue, key: [UInt8]) throws -> String {
        let input = Base64URL.encode(header.bytes) + "." + Base64URL.encode(payload.bytes)
        return input + "." + Base64URL.encode(try HMACKey(key).authenticate(Array(input.utf8)))
    }

    @Test func refusesEverythingElse() throws {
        let issuer = try tokens()
        let key = Array(String(repeating: "s", count: 32).utf8)
        let good: [(String, JSONValue)] = [("sub", "u"), ("sid", "s"), ("iat", 0), ("exp", 9_999_999_999), ("iss", "user-service"),
                                            ("aud", "user-service"), ("jti", "j"), ("type", "access")]
        let header = JSONValue.object([("alg", "HS256"), ("typ", "JWT"), ("kid", "1")])
        #expect(try issuer.verify(try forge(header, .object(good), key: key)) != nil)
        func with(_ name: String, _ value: JSONValue?) -> JSONValue {
            .object(good.compactMap { $0.0 == name ? value.map { (name, $0) } : $0 })
        }
        let refused: [String] = [
            try forge(header, with("aud", "someone-else"), key: key),
            try forge(header, with("iss", "someone-else"), key: key),
            try forge(header, with("type", "refresh"), key: key),
            try forge(header, with("exp", 10), key: key),
            try forge(header, with("sid", nil), key: key),
            try forge(header, .object(good), key: Array(String(repeating: "t", count: 32).utf8)),
            try forge(.object([("alg", "HS256"), ("kid", "2")]), .object(good), key: key),
            try forge(.object([("alg", "HS512"), ("kid", "1")]), .object(good), key: key),
            try forge(.object([("alg", "HS256")]), .object(good), key: key),
            Base64URL.encode(JSONValue.object([("alg", "none"), ("kid", "1")]).bytes) + "." + Base64URL.encode(JSONValue.object(good).bytes) + ".",
            "not.a.token", "", "a.b", "...",
        ]
        for token in refused { #expect(try issuer.verify(token) == nil, "\(token)") }
        #expect(try issuer.verify(try forge(header, with("aud", .array(["x", "user-service"])), key: key)) != nil)
    }

    @Test func refreshTokensAreRandomAndStoredHashed() throws {
        let (token, hash) = try OpaqueToken.generate()
        #expect(token.utf8.count == 43)
        #expect(try hash == Digest.sha256(Array(token.utf8)) && hash.count == 32)
        #expect(try OpaqueToken.generate().token != token)
    }

    @Test func accountRules() {
        for email in ["user@example.com", "a.b+c@sub.example.co"] { #expect(AccountRules.isValidEmail(email), "\(email)") }
        for email in ["", "user", "user@", "@example.com", "user@example", "a b@example.com", "a@b@example.com", "user@-x.com", "user@exa_mple.com",
                      // Addresses no mail could reach (pydantic's EmailStr refuses the first three too), and internationalized ones.
                      "a..b@example.com", "a<b>@example.com", "a,b@example.com", "josé@example.com", "user@exämple.com"] {
            #expect(!AccountRules.isValidEmail(email), "\(email)")
        }
        #expect(AccountRules.emailProblem("josé@example.com").contains("Internationalized addresses are not supported"))
        #expect(AccountRules.emailProblem("a..b@example.com").hasSuffix("must have an @-sign and a valid domain."))
        for name in ["abc", "user_name.1-2", String(repeating: "a", count: 32)] { #expect(AccountRules.isValidUsername(name)) }
        for name in ["ab", "has space", "a@b", "ünï", String(repeating: "a", count: 33)] { #expect(!AccountRules.isValidUsername(name)) }
    }

    @Test func passwordPolicy() {
        let policy = PasswordPolicy(minimumLength: 8, requireUppercase: true, requireLowercase: true, requireDigit: true)
        #expect(policy.problems(with: "SecurePass123", email: "a@b.co", username: "user").isEmpty)
        #expect(policy.problems(with: "short1A", email: nil, username: nil) == ["Password must be at least 8 characters long"])
        #expect(policy.problems(with: "alllowercase1", email: nil, username: nil) == ["Password must contain at least one uppercase letter"])
        #expect(policy.problems(with: "ALLUPPERCASE1", email: nil, username: nil) == ["Password must contain at least one lowercase letter"])
        #expect(policy.problems(with: "NoDigitsHere", email: nil, username: nil) == ["Password must contain at least one digit"])
        #expect(policy.problems(with: String(repeating: "Aa1", count: 25), email: nil, username: nil) == ["Password must be at most 72 bytes long"])
        #expect(policy.problems(with: "Abcdefg1\u{0}", email: nil, username: nil) == ["Password must not contain a NUL character"])
        #expect(policy.problems(with: "User.Name1", email: nil, username: "user.name1") == ["Password must not be the same as the username"])
    }
}
