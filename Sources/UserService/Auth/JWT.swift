import Crypto

/// Compact JWS with HS256 (RFC 7515), the only algorithm this service signs or accepts.
enum JWT {
    enum Failure: Error, Equatable {
        case malformed
        case unsupportedAlgorithm
        case unknownKey
        case badSignature
    }

    /// `header.payload.signature`, the header carrying `kid`.
    static func sign(payload: JSONValue, keyID: String, key: [UInt8]) -> String {
        let header = JSONValue.object([("alg", "HS256"), ("typ", "JWT"), ("kid", .string(keyID))])
        let signingInput = Base64URL.encode(header.bytes) + "." + Base64URL.encode(payload.bytes)
        return signingInput + "." + Base64URL.encode(Digest.hmacSHA256(key: key, message: Array(signingInput.utf8)))
    }

    /// Checks the signature with the key the header's `kid` names and returns the payload.
    ///
    /// The algorithm is pinned: `none` and anything but HS256 are refused whatever the header says, and
    /// key-bearing headers (`jku`, `jwk`, `x5u`) are ignored: keys come only from `keys`.
    static func verify(_ token: String, keys: [String: [UInt8]], requireKeyID: Bool = true) throws(Failure) -> JSONValue {
        let bytes = Array(token.utf8)
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
              let headerBytes = Base64URL.decode(parts[0]), let signature = Base64URL.decode(parts[2]),
              let header = try? JSONParser.parse(headerBytes, maximumDepth: 4)
        else { throw .malformed }
        guard header["alg"] == "HS256" else { throw .unsupportedAlgorithm }
        let key: [UInt8]
        if case .string(let keyID)? = header["kid"] {
            guard let known = keys[keyID] else { throw .unknownKey }
            key = known
        } else {
            guard !requireKeyID, keys.count == 1, let only = keys.values.first else { throw .unknownKey }
            key = only
        }
        let signingInput = bytes[0..<(parts[0].count + 1 + parts[1].count)]
        guard ConstantTime.equals(Digest.hmacSHA256(key: key, message: signingInput), signature) else { throw .badSignature }
        guard let payloadBytes = Base64URL.decode(parts[1]), let payload = try? JSONParser.parse(payloadBytes, maximumDepth: 8),
              case .object = payload
        else { throw .malformed }
        return payload
    }
}
