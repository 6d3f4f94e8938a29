import HTTP
import UserService

#if canImport(Glibc)
import Glibc
#endif

/// `user-service keys generate --out FILE [--algorithm EdDSA|ES256]`: a new signing key pair for
/// `JWT_PRIVATE_KEY_FILE`. The private key goes to FILE, created 0600 (never over an existing file), the public
/// key to FILE.pub (0644, for `JWT_PREVIOUS_PUBLIC_KEY_FILES` after a later rotation); the key id is the public
/// key's RFC 7638 thumbprint, which the service derives from either file, so nothing else names the key.
enum KeysCommand {
    static let usage = "usage: user-service keys generate --out FILE [--algorithm EdDSA|ES256]"

    static func run(_ arguments: ArraySlice<String>) -> Int32 {
        var arguments = arguments
        guard arguments.popFirst() == "generate" else {
            Log.write("user-service: \(usage)")
            return 2
        }
        var values: [String: String] = [:]
        while let name = arguments.popFirst() {
            guard name != "--kid" else {
                Log.write("user-service: --kid cannot be chosen: a key's kid is always the RFC 7638 thumbprint of its public key, which keys generate prints")
                return 2
            }
            guard ["--out", "--algorithm"].contains(name), let value = arguments.popFirst() else {
                Log.write("user-service: unknown or incomplete option \(name)\n\(usage)")
                return 2
            }
            values[name] = value
        }
        guard let path = values["--out"] else {
            Log.write("user-service: keys generate needs --out FILE\n\(usage)")
            return 2
        }
        guard let algorithm = JWTAlgorithm(rawValue: values["--algorithm"] ?? JWTAlgorithm.edDSA.rawValue), algorithm != .hs256 else {
            Log.write("user-service: --algorithm must be EdDSA or ES256 (HS256 signs with a secret: openssl rand -hex 32)")
            return 2
        }
        return runReportingFailure("keys generate") {
            let pair = try KeyFile.generate(algorithm)
            try write(pair.privateKey, to: path, mode: 0o600)
            do {
                try write(pair.publicKey, to: path + ".pub", mode: 0o644)
            } catch {
                _ = unlink(path)  // no private key without its public half
                throw error
            }
            print("""
                kid \(pair.keyID) (\(algorithm.rawValue)): private key \(path) (0600: make it the service user's), public key \(path).pub
                JWT_ALGORITHM=\(algorithm.rawValue)
                JWT_PRIVATE_KEY_FILE=\(path)
                """)
        }
    }

    private static func write(_ pem: [UInt8], to path: String, mode: mode_t) throws {
        let file = try OutputFile(path: path, mode: mode)
        do {
            try file.write(String(decoding: pem.last == 0x0A ? pem.dropLast() : pem[...], as: UTF8.self))
            try file.close()
        } catch {
            file.abandon()
            throw error
        }
    }
}
