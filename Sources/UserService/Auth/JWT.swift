import Crypto
import HTTP

/// Compact JWS (RFC 7515) with HS256, EdDSA (Ed25519, RFC 8037) or ES256: the algorithms of `JWTKey`.
enum JWT {
    enum Failure: Error, Equatable {
        case malformed
        case unsupportedAlgorithm
        case unknownKey
        case badSignature
        /// A header with `crit`: extensions the verifier must understand, and this one understands none.
        case criticalExtension
    }

    /// A header or payload is parsed only within these bounds: the header before its signature is checked.
    static let headerLimits = JSONParser.Limits(maximumDepth: 4, maximumMembers: 16)
    static let payloadLimits = JSONParser.Limits(maximumDepth: 8, maximumMembers: 64)
    /// Longer tokens are refused before any work: ours are about 400 bytes.
    static let maximumTokenLength = 4096

    /// `header.payload.signature`, the header naming the key's algorithm and `kid`.
    static func sign(payload: JSONValue, key: JWTKey) throws -> String {
        let signingInput = key.encodedHeader + "." + Base64URL.encode(payload.bytes)
        return signingInput + "." + Base64URL.encode(try key.sign(Array(signingInput.utf8)))
    }

    /// Checks the signature with the key the header's `kid` names and returns the payload.
    ///
    /// The algorithm is pinned per key: the header's `alg` must be the algorithm of the key its `kid` names
    /// (`none`, and any algorithm no key has, are refused), and key-bearing headers (`jku`, `jwk`, `x5u`) are
    /// ignored: keys come only from `keys`. A header with `crit` is refused: RFC 7515 §4.1.11, "If any of the
    /// listed extension Header Parameters are not understood and supported by the recipient, then the JWS is
    /// invalid", and this verifier supports no extension.
    ///
    /// Throws `Failure` for a token that is not valid, `LibcryptoError` when libcrypto fails.
    static func verify(_ token: String, keys: [String: JWTKey], knownHeaders: [(segment: [UInt8], key: JWTKey)] = []) throws -> JSONValue {
        guard token.utf8.count <= maximumTokenLength else { throw Failure.malformed }
        let bytes = Array(token.utf8)
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, let signature = Base64URL.decode(parts[2]) else {
            throw Failure.malformed
        }
        let key: JWTKey
        if let known = knownHeaders.first(where: { $0.segment.elementsEqual(parts[0]) }) {
            // Byte for byte the header this service writes for that key (its own algorithm): no need to parse it.
            key = known.key
        } else {
            guard let headerBytes = Base64URL.decode(parts[0]), let header = try? JSONParser.parse(headerBytes, limits: headerLimits) else {
                throw Failure.malformed
            }
            guard header["crit"] == nil else { throw Failure.criticalExtension }
            guard case .string(let name)? = header["alg"], let algorithm = JWTAlgorithm(rawValue: name) else { throw Failure.unsupportedAlgorithm }
            guard case .string(let keyID)? = header["kid"], let known = keys[keyID] else { throw Failure.unknownKey }
            guard known.algorithm == algorithm else { throw Failure.unsupportedAlgorithm }
            key = known
        }
        let signingInput = bytes[0..<(parts[0].count + 1 + parts[1].count)]
        guard try key.verify(signature, of: signingInput) else { throw Failure.badSignature }
        guard let payloadBytes = Base64URL.decode(parts[1]), let payload = try? JSONParser.parse(payloadBytes, limits: payloadLimits),
              case .object = payload
        else { throw Failure.malformed }
        return payload
    }
}
