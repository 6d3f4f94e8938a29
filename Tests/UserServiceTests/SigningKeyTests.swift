import Crypto
import HTTP
import Testing
@testable import UserService

#if canImport(Glibc)
import Glibc
#endif

/// EdDSA and ES256 through libcrypto: known answers, the key files' rules, and every key pinned to its algorithm.
@Suite struct SigningKeyTests {
    /// A PEM block of `der`.
    static func pem(_ label: String, _ der: [UInt8]) -> [UInt8] {
        let base64 = String(Base64URL.encode(der).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        let padded = base64 + String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Array("-----BEGIN \(label)-----\n\(padded)\n-----END \(label)-----\n".utf8)
    }

    /// RFC 8037 appendix A.1's Ed25519 private key, as a PKCS#8 PEM.
    static let rfc8037Key = pem("PRIVATE KEY", [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
        + Base64URL.decode(Array("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A".utf8))!)

    /// RFC 8037 A.2–A.4: the public key, its RFC 7638 thumbprint and the signature of the example JWS.
    @Test func rfc8037Ed25519KnownAnswers() throws {
        let key = try SignatureKey(privateKeyPEM: Self.rfc8037Key)
        #expect(key.kind == .ed25519 && key.hasPrivateKey)
        #expect(Base64URL.encode(try key.publicComponents().x) == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        #expect(try JWK.thumbprint(of: key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        let input = Array("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc".utf8)
        let signature = try key.sign(input)
        #expect(Base64URL.encode(signature) == "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
        // The public half alone verifies, and refuses a changed message or signature.
        let publicKey = try SignatureKey(publicKeyPEM: try key.publicKeyPEM())
        #expect(!publicKey.hasPrivateKey)
        #expect(try publicKey.verify(signature, of: input))
        #expect(try !publicKey.verify(signature, of: input + [0x2e]))
        #expect(try !publicKey.verify(Array(signature.dropLast()) + [signature.last! ^ 1], of: input))
        #expect(try !publicKey.verify([], of: input))
        #expect(throws: SignatureKey.Failure.noPrivateKey) { try publicKey.sign(input) }
    }

    /// ES256 signatures are JWS's 64-byte `r || s`, not DER; a generated key's PEM files read back.
    @Test func es256RoundTripAndPEMFiles() throws {
        let key = try SignatureKey.generate(.p256)
        let input = Array("header.payload".utf8)
        let signature = try key.sign(input)
        #expect(signature.count == 64)
        let publicKey = try SignatureKey(publicKeyPEM: try key.publicKeyPEM())
        #expect(publicKey.kind == .p256)
        #expect(try publicKey.verify(signature, of: input))
        #expect(try !publicKey.verify(signature, of: Array("header.payloaD".utf8)))
        #expect(try !publicKey.verify([UInt8](repeating: 0, count: 64), of: input))
        let reread = try SignatureKey(privateKeyPEM: try key.privateKeyPEM())
        #expect(try JWK.thumbprint(of: reread) == JWK.thumbprint(of: publicKey))
        let (x, y) = try publicKey.publicComponents()
        #expect(x.count == 32 && y?.count == 32)
        #expect(throws: SignatureKey.Failure.unreadable) { try SignatureKey(privateKeyPEM: Array("not a key".utf8)) }
        #expect(throws: SignatureKey.Failure.unreadable) { try SignatureKey(publicKeyPEM: try key.privateKeyPEM()) }
    }

    // MARK: - Key files and configuration

    final class KeyFolder {
        let path: String
        init() {
            var template = Array("/tmp/signing-keys-test-XXXXXX".utf8CString)
            path = String(cString: mkdtemp(&template)!)
        }
        deinit {
            if let names = FileReader.listDirectory(path) { for name in names { unlink(path + "/" + name) } }
            rmdir(path)
        }

        /// A new key pair in `name` (0600) and `name.pub`; returns the private key's path.
        func generate(_ name: String, _ algorithm: JWTAlgorithm = .edDSA, mode: mode_t = 0o600) throws -> String {
            let pair = try KeyFile.generate(algorithm)
            write(pair.privateKey, name, mode: mode)
            write(pair.publicKey, name + ".pub", mode: 0o644)
            return path + "/" + name
        }

        func write(_ bytes: [UInt8], _ name: String, mode: mode_t = 0o600) {
            let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, mode)
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            fchmod(fd, mode)
            close(fd)
        }
    }

    static let secret = String(repeating: "s", count: 32)

    func configuration(_ extra: [String: String]) throws(ConfigurationError) -> Configuration {
        try Configuration.load(from: ["DATABASE_URL": "x"].merging(extra) { $1 }, defaultWorkers: 1)
    }

    @Test func keyFilesAreCheckedAtStartWithOneLineNamingTheVariable() throws {
        let folder = KeyFolder()
        let loose = try folder.generate("loose.pem", mode: 0o640)
        let error = try #require(throws: ConfigurationError.self) {
            try configuration(["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": loose])
        }
        #expect(error.variable == "JWT_PRIVATE_KEY_FILE" && error.description.contains("chmod 600") && !error.description.contains("\n"))
        let ed = try folder.generate("ed.pem")
        #expect(throws: ConfigurationError.self) { try configuration(["JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY_FILE": ed]) }
        #expect(throws: ConfigurationError.self) { try configuration(["JWT_ALGORITHM": "EdDSA"]) }
        #expect(throws: ConfigurationError.self) { try configuration(["JWT_ALGORITHM": "RS256", "JWT_SECRET_KEY": Self.secret]) }
        // HS256 (the default) signs with the secret: a private key file there is a mistake, not ignored.
        #expect(throws: ConfigurationError.self) { try configuration(["JWT_SECRET_KEY": Self.secret, "JWT_PRIVATE_KEY_FILE": ed]) }
        #expect(throws: ConfigurationError.self) {
            try configuration(["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": ed, "JWT_PREVIOUS_PUBLIC_KEY_FILES": ed + ".pub"])
        }
        #expect(throws: ConfigurationError.self) {
            try configuration(["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": ed, "JWT_PREVIOUS_PUBLIC_KEY_FILES": folder.path + "/missing.pub"])
        }
        // Without a secret once HS256 no longer signs; the kid is the key's thumbprint, the same from either file.
        let edDSA = try configuration(["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": ed])
        #expect(edDSA.jwtSecretKey == nil && edDSA.jwtAlgorithm == .edDSA)
        let previous = try configuration(["JWT_SECRET_KEY": Self.secret, "JWT_PREVIOUS_PUBLIC_KEY_FILES": " \(ed).pub ,"])
        #expect(previous.jwtPublicKeys.map(\.keyID) == [edDSA.jwtPrivateKey?.keyID])
    }

    func refusal(_ settings: [String: String]) -> String {
        do {
            _ = try configuration(settings)
            return "accepted"
        } catch {
            return error.description
        }
    }

    /// Each key file is opened once and checked on that descriptor, then read from it: a regular file of at most
    /// 64 KiB (no device, no FIFO to block on); the private key the file itself (no symbolic link), the service
    /// user's, 0600 or stricter; a public key file without private key material.
    @Test func keyFilesAreCheckedOnTheDescriptorTheyAreReadFrom() throws {
        let folder = KeyFolder()
        let ed = try folder.generate("ed.pem")
        let signing = { (path: String) in ["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": path] }
        let listing = { (path: String) in ["JWT_SECRET_KEY": Self.secret, "JWT_PREVIOUS_PUBLIC_KEY_FILES": path] }
        #expect(refusal(listing("/dev/zero")).hasSuffix("JWT_PREVIOUS_PUBLIC_KEY_FILES does not name a regular file (/dev/zero)"))
        #expect(refusal(signing("/dev/zero")).hasSuffix("JWT_PRIVATE_KEY_FILE does not name a regular file"))
        #expect(mkfifo(folder.path + "/fifo", 0o600) == 0)
        #expect(refusal(listing(folder.path + "/fifo")).contains("does not name a regular file"))
        #expect(refusal(signing(folder.path + "/fifo")).contains("does not name a regular file"))
        folder.write(Array(repeating: UInt8(ascii: "a"), count: 64 * 1024 + 1), "large.pub", mode: 0o644)
        #expect(refusal(listing(folder.path + "/large.pub")).contains("over 64 KiB"))
        // A symbolic link: followed to a public key, refused as the private key.
        #expect(symlink(ed, folder.path + "/link.pem") == 0 && symlink(ed + ".pub", folder.path + "/link.pub") == 0)
        #expect(refusal(signing(folder.path + "/link.pem")).hasSuffix("JWT_PRIVATE_KEY_FILE names a symbolic link: name the key file itself"))
        #expect(refusal(listing(folder.path + "/link.pub")) == "accepted")
        // Private key material where only public keys belong: the private key itself, or pasted above a public key.
        #expect(refusal(listing(ed)).contains("holds private key material"))
        folder.write(FileReader.readBytes(ed)! + FileReader.readBytes(ed + ".pub")!, "both.pub", mode: 0o644)
        #expect(refusal(listing(folder.path + "/both.pub")).contains("holds private key material"))
        // Another user's private key, even with mode 0600 (only root can give a file away).
        if geteuid() == 0 {
            #expect(chown(ed, 65534, 65534) == 0)
            #expect(refusal(signing(ed)).hasSuffix("JWT_PRIVATE_KEY_FILE belongs to another user than the one the service runs as: chown it to the service's user"))
        }
    }

    /// The master reads the key files at start and at each reload and hands every worker their key ids; a worker
    /// started later (after a crash, say) that finds other keys, or cannot load the files any more, does not start.
    @Test func aWorkerRefusesKeyFilesChangedSinceThePoolReadThem() throws {
        let folder = KeyFolder()
        let ed = try folder.generate("ed.pem")
        let old = try folder.generate("old.pem")
        let environment = ["DATABASE_URL": "x", "JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": ed, "JWT_PREVIOUS_PUBLIC_KEY_FILES": old + ".pub"]
        let master = try Configuration.load(from: environment, defaultWorkers: 1)
        let workers = master.workerEnvironment(environment)
        #expect(workers[Configuration.keyIDsVariable]?.split(separator: ",").count == 2)
        #expect(try Configuration.loadInWorker(from: workers).keyFileIDs == master.keyFileIDs)

        // The private key replaced in place by another: the same path, the same mode.
        let original = FileReader.readBytes(ed)!
        let other = try KeyFile.generate(.edDSA)
        folder.write(other.privateKey, "ed.pem")
        let changed = try #require(throws: ChangedConfiguration.self) { try Configuration.loadInWorker(from: workers) }
        #expect(changed.description.contains("JWT_PRIVATE_KEY_FILE now holds the key \(other.keyID), not \(master.keyFileIDs.prefix { $0 != "," })"))
        #expect(changed.description.contains("never changed in place") && !changed.description.contains("\n"))
        // Back, but loosened: the worker cannot load what the master accepted.
        folder.write(original, "ed.pem", mode: 0o644)
        let loosened = try #require(throws: ChangedConfiguration.self) { try Configuration.loadInWorker(from: workers) }
        #expect(loosened.description.contains("no longer loads") && loosened.description.contains("chmod 600"))
        // A public key file replaced in place is named.
        folder.write(original, "ed.pem")
        folder.write(other.publicKey, "old.pem.pub", mode: 0o644)
        let republished = try #require(throws: ChangedConfiguration.self) { try Configuration.loadInWorker(from: workers) }
        #expect(republished.description.contains("JWT_PREVIOUS_PUBLIC_KEY_FILES (\(old).pub) now holds the key \(other.keyID)"))
    }

    /// HS256 stays today's: the same header bytes, signed with the secret.
    @Test func hs256HeaderIsUnchanged() throws {
        let tokens = try AccessTokens(configuration: try configuration(["JWT_SECRET_KEY": Self.secret]))
        let token = try tokens.issue(userID: "u", sessionID: "s")
        #expect(token.hasPrefix(Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT","kid":"1"}"#.utf8)) + "."))
        #expect(tokens.publishedKeys.isEmpty)
        #expect(String(decoding: try KeySet(tokens.publishedKeys).body, as: UTF8.self) == #"{"keys":[]}"#)
    }

    func forge(_ header: JSONValue, _ payload: JSONValue, sign: ([UInt8]) throws -> [UInt8]) throws -> String {
        let input = Base64URL.encode(header.bytes) + "." + Base64URL.encode(payload.bytes)
        return input + "." + Base64URL.encode(try sign(Array(input.utf8)))
    }

    @Test func everyKeyIsPinnedToItsAlgorithm() throws {
        let folder = KeyFolder()
        let ed = try folder.generate("ed.pem")
        let es = try folder.generate("es.pem", .es256)
        let old = try folder.generate("old.pem")
        let stranger = try folder.generate("stranger.pem")
        let settings = ["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": ed, "JWT_SECRET_KEY": Self.secret,
                        "JWT_PREVIOUS_PUBLIC_KEY_FILES": "\(es).pub,\(old).pub"]
        let tokens = try AccessTokens(configuration: try configuration(settings))
        let now: Int64 = 1_000_000
        let issued = try tokens.issue(userID: "u", sessionID: "s", now: now)
        #expect(tokens.signingKey.algorithm == .edDSA && tokens.publishedKeys.count == 3)
        #expect(try tokens.verify(issued, now: now)?.userID == "u")

        let claims = JSONValue.object([("sub", "u"), ("sid", "s"), ("iat", .integer(Int(now))), ("exp", .integer(Int(now) + 600)),
                                       ("iss", "user-service"), ("aud", "user-service"), ("jti", "j"), ("type", "access")])
        func header(_ alg: String, _ kid: String) -> JSONValue { .object([("alg", .string(alg)), ("typ", "JWT"), ("kid", .string(kid))]) }
        let edKid = tokens.signingKey.id
        let esKid = try configuration(["JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY_FILE": es]).jwtPrivateKey!.keyID
        let oldKid = try configuration(["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": old]).jwtPrivateKey!.keyID
        let esKey = try SignatureKey(privateKeyPEM: FileReader.readBytes(es)!)
        let edPublic = FileReader.readBytes(ed + ".pub")!

        // Still verify: an HS256 token of the secret (kept during a rotation), an earlier key's token, an ES256 token.
        #expect(try tokens.verify(forge(header("HS256", "1"), claims) { try HMACKey(Array(Self.secret.utf8)).authenticate($0) }, now: now) != nil)
        #expect(try tokens.verify(forge(header("EdDSA", oldKid), claims) { try SignatureKey(privateKeyPEM: FileReader.readBytes(old)!).sign($0) }, now: now) != nil)
        #expect(try tokens.verify(forge(header("ES256", esKid), claims) { try esKey.sign($0) }, now: now) != nil)

        let refused: [String] = [
            // HS256 with the public key's bytes (its PEM, its raw x) as the secret, under the EdDSA key's kid.
            try forge(header("HS256", edKid), claims) { try HMACKey(edPublic).authenticate($0) },
            try forge(header("HS256", edKid), claims) { try HMACKey(try SignatureKey(publicKeyPEM: edPublic).publicComponents().x).authenticate($0) },
            // alg none, with and without a signature.
            Base64URL.encode(header("none", edKid).bytes) + "." + Base64URL.encode(claims.bytes) + ".",
            try forge(header("none", edKid), claims) { try SignatureKey(privateKeyPEM: FileReader.readBytes(ed)!).sign($0) },
            // A header naming another kid's algorithm: an ES256 signature under the EdDSA kid, and the reverse.
            try forge(header("ES256", edKid), claims) { try esKey.sign($0) },
            try forge(header("EdDSA", esKid), claims) { try SignatureKey(privateKeyPEM: FileReader.readBytes(ed)!).sign($0) },
            // A key that is not (or no longer) listed.
            try forge(header("EdDSA", "stranger"), claims) { try SignatureKey(privateKeyPEM: FileReader.readBytes(stranger)!).sign($0) },
            try forge(header("EdDSA", edKid), claims) { try SignatureKey(privateKeyPEM: FileReader.readBytes(stranger)!).sign($0) },
        ]
        for token in refused { #expect(try tokens.verify(token, now: now) == nil, "\(token)") }

        // Once the earlier key is taken off the list, its tokens are refused.
        let later = try AccessTokens(configuration: try configuration(settings.merging(["JWT_PREVIOUS_PUBLIC_KEY_FILES": "\(es).pub"]) { $1 }))
        #expect(try later.verify(forge(header("EdDSA", oldKid), claims) { try SignatureKey(privateKeyPEM: FileReader.readBytes(old)!).sign($0) }, now: now) == nil)
        #expect(try later.verify(issued, now: now) != nil)
    }

    /// The JWKS lists the signing key first, then the earlier ones, with public members only.
    @Test func keySetHasPublicMembersOnly() throws {
        let folder = KeyFolder()
        let ed = try folder.generate("ed.pem")
        let es = try folder.generate("es.pem", .es256)
        let tokens = try AccessTokens(configuration: try configuration(["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": ed,
                                                                        "JWT_PREVIOUS_PUBLIC_KEY_FILES": es + ".pub"]))
        let set = try JSONParser.parse(try KeySet(tokens.publishedKeys).body)
        guard case .array(let keys)? = set["keys"], keys.count == 2, case .object(let first) = keys[0], case .object(let second) = keys[1] else {
            Issue.record("not a key set of two: \(set)")
            return
        }
        #expect(first.map(\.0) == ["crv", "kty", "x", "kid", "alg", "use"])
        #expect(second.map(\.0) == ["crv", "kty", "x", "y", "kid", "alg", "use"])
        #expect(keys[0]["kid"] == .string(tokens.signingKey.id) && keys[0]["alg"] == "EdDSA" && keys[1]["alg"] == "ES256")
    }

    @Test func entityTagsRevalidate() throws {
        let tag = try Revalidated<KeySet>.entityTag(of: Array("{}".utf8))
        for header in [tag, "W/\(tag)", "\"other\", \(tag)", "*"] { #expect(Revalidated<KeySet>.matches(header, tag), "\(header)") }
        for header in ["\"other\"", "", tag.replacingFirstQuote()] { #expect(!Revalidated<KeySet>.matches(header, tag), "\(header)") }
    }
}

private extension String {
    func replacingFirstQuote() -> String { String(dropFirst()) }
}
