import Crypto
import HTTP

/// Compact JWS with HS256 (RFC 7515), the only algorithm this service signs or accepts.
enum JWT {
    enum Failure: Error, Equatable {
        case malformed
        case unsupportedAlgorithm
        case unknownKey
        case badSignature
    }

    /// A header or payload is parsed only within these bounds: the header before its signature is checked.
    static let headerLimits = JSONParser.Limits(maximumDepth: 4, maximumMembers: 16)
    static let payloadLimits = JSONParser.Limits(maximumDepth: 8, maximumMembers: 64)
    /// Longer tokens are refused before any work: ours are about 400 bytes.
    static let maximumTokenLength = 4096

    /// The header this service writes for `keyID`, base64url-encoded.
    static func encodedHeader(keyID: String) -> String {
        Base64URL.encode(JSONValue.object([("alg", "HS256"), ("typ", "JWT"), ("kid", .string(keyID))]).bytes)
    }

    /// `header.payload.signature`, the header carrying `kid`.
    static func sign(payload: JSONValue, keyID: String, key: HMACKey) throws -> String {
        let signingInput = encodedHeader(keyID: keyID) + "." + Base64URL.encode(payload.bytes)
        return signingInput + "." + Base64URL.encode(try key.authenticate(Array(signingInput.utf8)))
    }

    /// Checks the signature with the key the header's `kid` names and returns the payload.
    ///
    /// The algorithm is pinned: `none` and anything but HS256 are refused whatever the header says, and
    /// key-bearing headers (`jku`, `jwk`, `x5u`) are ignored: keys come only from `keys`.
    ///
    /// Throws `Failure` for a token that is not valid, `LibcryptoError` when the MAC cannot be computed.
    static func verify(_ token: String, keys: [String: HMACKey],
                       knownHeaders: [(segment: [UInt8], key: HMACKey)] = []) throws -> JSONValue {
        guard token.utf8.count <= maximumTokenLength else { throw Failure.malformed }
        let bytes = Array(token.utf8)
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, let signature = Base64URL.decode(parts[2]) else {
            throw Failure.malformed
        }
        let key: HMACKey
        if let known = knownHeaders.first(where: { $0.segment.elementsEqual(parts[0]) }) {
            // Byte for byte the header this service writes: no need to parse it.
            key = known.key
        } else {
            guard let headerBytes = Base64URL.decode(parts[0]), let header = try? JSONParser.parse(headerBytes, limits: headerLimits) else {
                throw Failure.malformed
            }
            guard header["alg"] == "HS256" else { throw Failure.unsupportedAlgorithm }
            guard case .string(let keyID)? = header["kid"], let known = keys[keyID] else { throw Failure.unknownKey }
            key = known
        }
        let signingInput = bytes[0..<(parts[0].count + 1 + parts[1].count)]
        guard ConstantTime.equals(try key.authenticate(signingInput), signature) else { throw Failure.badSignature }
        guard let payloadBytes = Base64URL.decode(parts[1]), let payload = try? JSONParser.parse(payloadBytes, limits: payloadLimits),
              case .object = payload
        else { throw Failure.malformed }
        return payload
    }
}
