internal import COpenSSL

/// An Ed25519 or ECDSA P-256 key (`EVP_PKEY`), private or public only, read from PEM or generated, signing and
/// verifying through OpenSSL's EVP interfaces. Signatures are in JWS form (RFC 7518 §3.4, RFC 8037 §3.1): 64 bytes,
/// for P-256 the big-endian `r || s` that JWS uses instead of DER, with `s` in the lower half of the group order
/// (ECDSA's `(r, s)` and `(r, n − s)` both verify: only the low one is written or accepted, so a token has one
/// signature, as an Ed25519 one does).
public final class SignatureKey {
    public enum Kind: String, Sendable {
        case ed25519 = "Ed25519"
        case p256 = "P-256"
    }

    public enum Failure: Error, Equatable {
        /// Not a PEM key this type reads (a passphrase-protected one included).
        case unreadable
        /// A key of another type or curve (RSA, P-384, X25519, ...).
        case unsupportedKind
        /// A signing call on a key read from a public key.
        case noPrivateKey
    }

    public let kind: Kind
    public let hasPrivateKey: Bool
    private let key: OpaquePointer
    /// The length of each half of a P-256 signature, and of its coordinates.
    private static let p256FieldLength = 32
    /// P-256's group order n (FIPS 186-4 D.1.2.3) and ⌊n / 2⌋, big-endian: the largest `s` a signature may carry.
    private static let p256Order: [UInt8] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    ]
    private static let p256HalfOrder: [UInt8] = [
        0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
    ]

    private init(taking key: OpaquePointer, hasPrivateKey: Bool) throws(Failure) {
        guard let kind = Self.kind(of: key) else {
            EVP_PKEY_free(key)
            throw .unsupportedKind
        }
        self.key = key
        self.kind = kind
        self.hasPrivateKey = hasPrivateKey
    }

    deinit { EVP_PKEY_free(key) }

    /// A PKCS#8 `PRIVATE KEY` (or traditional `EC PRIVATE KEY`) PEM without a passphrase.
    public convenience init(privateKeyPEM pem: [UInt8]) throws(Failure) {
        guard let key = Self.readPEM(pem, { bio in
            // A passphrase callback that has none: never a prompt on the terminal for an encrypted key.
            PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }) else { throw .unreadable }
        try self.init(taking: key, hasPrivateKey: true)
    }

    /// A `PUBLIC KEY` (SubjectPublicKeyInfo) PEM.
    public convenience init(publicKeyPEM pem: [UInt8]) throws(Failure) {
        guard let key = Self.readPEM(pem, { PEM_read_bio_PUBKEY($0, nil, nil, nil) }) else { throw .unreadable }
        try self.init(taking: key, hasPrivateKey: false)
    }

    /// A new key pair from OpenSSL's generator. Throws `LibcryptoError`.
    public static func generate(_ kind: Kind) throws -> SignatureKey {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, kind == .ed25519 ? "ED25519" : "EC", nil) else {
            throw LibcryptoError("EVP_PKEY_CTX_new_from_name")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1, kind == .ed25519 || EVP_PKEY_CTX_set_group_name(context, "P-256") == 1 else {
            throw LibcryptoError("EVP_PKEY_keygen_init")
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else { throw LibcryptoError("EVP_PKEY_generate") }
        return try SignatureKey(taking: key, hasPrivateKey: true)
    }

    /// The signature of `message` in JWS form. Throws `Failure.noPrivateKey` or `LibcryptoError`.
    public func sign<Message: Collection<UInt8>>(_ message: Message) throws -> [UInt8] {
        guard hasPrivateKey else { throw Failure.noPrivateKey }
        let signature = try message.withContiguousBytes { try sign(bytes: $0) }
        return kind == .ed25519 ? signature : try Self.jwsSignature(fromDER: signature)
    }

    /// Whether `signature` (JWS form) is this key's signature of `message`. A malformed signature is simply not
    /// valid; only a failure of libcrypto itself throws (`LibcryptoError`).
    @inlinable
    public func verify<Message: Collection<UInt8>>(_ signature: [UInt8], of message: Message) throws -> Bool {
        try message.withContiguousBytes { try verify(signature, bytes: $0) }
    }

    @usableFromInline
    func verify(_ signature: [UInt8], bytes message: UnsafeRawBufferPointer) throws(LibcryptoError) -> Bool {
        guard signature.count == 2 * Self.p256FieldLength else { return false }  // 64 bytes for either kind
        // A high `s` is the other form of some valid signature (`n − s`): never one this type wrote.
        if kind == .p256, Self.p256HalfOrder.lexicographicallyPrecedes(signature[Self.p256FieldLength...]) { return false }
        let encoded = kind == .ed25519 ? signature : Self.derSignature(fromJWS: signature)
        guard let encoded, let context = EVP_MD_CTX_new() else { throw LibcryptoError("ECDSA_SIG/EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        // > EVP_DigestVerifyInit() ... The digest type must be NULL for Ed25519 (one-shot EVP_DigestVerify only).
        guard EVP_DigestVerifyInit(context, nil, digest, nil, key) == 1 else { throw LibcryptoError("EVP_DigestVerifyInit") }
        let result = encoded.withUnsafeBufferPointer { signature in
            EVP_DigestVerify(context, signature.baseAddress, signature.count,
                             message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
        }
        // > returns 1 for success; any other value indicates failure. A return value of zero indicates that the
        // > signature did not verify successfully; a negative value may indicate a more serious error.
        // A wrong signature can leave codes in the thread's queue (a bad DER, say): drained, not seen by a later call.
        if result != 1 { ERR_clear_error() }
        return result == 1
    }

    /// The public key: Ed25519's 32 bytes as `x`; P-256's affine coordinates `x` and `y`, 32 bytes each.
    /// Throws `LibcryptoError`.
    public func publicComponents() throws -> (x: [UInt8], y: [UInt8]?) {
        switch kind {
        case .ed25519:
            var length = 0
            guard EVP_PKEY_get_raw_public_key(key, nil, &length) == 1 else { throw LibcryptoError("EVP_PKEY_get_raw_public_key") }
            var x = [UInt8](repeating: 0, count: length)
            guard EVP_PKEY_get_raw_public_key(key, &x, &length) == 1 else { throw LibcryptoError("EVP_PKEY_get_raw_public_key") }
            return (x, nil)
        case .p256:
            return (try coordinate(OSSL_PKEY_PARAM_EC_PUB_X), try coordinate(OSSL_PKEY_PARAM_EC_PUB_Y))
        }
    }

    /// The private key as a PKCS#8 PEM. Throws `Failure.noPrivateKey` or `LibcryptoError`.
    public func privateKeyPEM() throws -> [UInt8] {
        guard hasPrivateKey else { throw Failure.noPrivateKey }
        return try Self.writePEM { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
    }

    /// The public key as a SubjectPublicKeyInfo PEM. Throws `LibcryptoError`.
    public func publicKeyPEM() throws -> [UInt8] {
        try Self.writePEM { PEM_write_bio_PUBKEY($0, key) }
    }

    // MARK: - libcrypto plumbing

    private var digest: OpaquePointer? { kind == .ed25519 ? nil : EVP_sha256() }

    private func sign(bytes message: UnsafeRawBufferPointer) throws(LibcryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw LibcryptoError("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, digest, nil, key) == 1 else { throw LibcryptoError("EVP_DigestSignInit") }
        let input = message.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var length = 0
        guard EVP_DigestSign(context, nil, &length, input, message.count) == 1 else { throw LibcryptoError("EVP_DigestSign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, input, message.count) == 1 else { throw LibcryptoError("EVP_DigestSign") }
        return Array(signature.prefix(length))
    }

    private func coordinate(_ name: String) throws(LibcryptoError) -> [UInt8] {
        var number: OpaquePointer?
        guard EVP_PKEY_get_bn_param(key, name, &number) == 1, let number else { throw LibcryptoError("EVP_PKEY_get_bn_param") }
        defer { BN_free(number) }
        var bytes = [UInt8](repeating: 0, count: Self.p256FieldLength)
        guard BN_bn2binpad(number, &bytes, Int32(bytes.count)) == Int32(bytes.count) else { throw LibcryptoError("BN_bn2binpad") }
        return bytes
    }

    private static func kind(of key: OpaquePointer) -> Kind? {
        if EVP_PKEY_is_a(key, "ED25519") == 1 { return .ed25519 }
        guard EVP_PKEY_is_a(key, "EC") == 1 else { return nil }
        var name = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1 else { return nil }
        // OpenSSL names P-256 by its X9.62 name.
        return String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) == "prime256v1" ? .p256 : nil
    }

    private static func readPEM(_ pem: [UInt8], _ read: (OpaquePointer) -> OpaquePointer?) -> OpaquePointer? {
        pem.withUnsafeBytes { bytes -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            let key = read(bio)
            if key == nil { ERR_clear_error() }
            return key
        }
    }

    private static func writePEM(_ write: (OpaquePointer) -> Int32) throws(LibcryptoError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw LibcryptoError("BIO_new") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw LibcryptoError("PEM_write_bio") }
        // BIO_get_mem_data is a macro for this call.
        var data: UnsafeMutableRawPointer?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data)
        guard length > 0, let data else { throw LibcryptoError("BIO_get_mem_data") }
        return Array(UnsafeRawBufferPointer(start: data, count: length))
    }

    /// DER `ECDSA-Sig-Value` → `r || s`, each left-padded to 32 bytes, `s` replaced by `n − s` when it is in the
    /// upper half of the order (the same signature in its low-S form).
    private static func jwsSignature(fromDER der: [UInt8]) throws(LibcryptoError) -> [UInt8] {
        let parsed = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let parsed else { throw LibcryptoError("d2i_ECDSA_SIG") }
        defer { ECDSA_SIG_free(parsed) }
        var out = [UInt8](repeating: 0, count: 2 * p256FieldLength)
        let ok = out.withUnsafeMutableBufferPointer { buffer in
            BN_bn2binpad(ECDSA_SIG_get0_r(parsed), buffer.baseAddress, Int32(p256FieldLength)) == Int32(p256FieldLength)
                && BN_bn2binpad(ECDSA_SIG_get0_s(parsed), buffer.baseAddress! + p256FieldLength, Int32(p256FieldLength)) == Int32(p256FieldLength)
        }
        guard ok else { throw LibcryptoError("BN_bn2binpad") }
        if p256HalfOrder.lexicographicallyPrecedes(out[p256FieldLength...]) {
            out.replaceSubrange(p256FieldLength..., with: try p256Negated(ECDSA_SIG_get0_s(parsed)))
        }
        return out
    }

    /// `n − s`, 32 bytes big-endian.
    private static func p256Negated(_ s: OpaquePointer?) throws(LibcryptoError) -> [UInt8] {
        guard let order = BN_bin2bn(p256Order, Int32(p256Order.count), nil) else { throw LibcryptoError("BN_bin2bn") }
        defer { BN_free(order) }
        guard let negated = BN_new() else { throw LibcryptoError("BN_new") }
        defer { BN_free(negated) }
        var bytes = [UInt8](repeating: 0, count: p256FieldLength)
        guard BN_sub(negated, order, s) == 1, BN_bn2binpad(negated, &bytes, Int32(p256FieldLength)) == Int32(p256FieldLength) else {
            throw LibcryptoError("BN_sub")
        }
        return bytes
    }

    /// `r || s` → DER, or nil when libcrypto cannot allocate.
    private static func derSignature(fromJWS signature: [UInt8]) -> [UInt8]? {
        guard let value = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(value) }
        let halves = signature.withUnsafeBufferPointer { buffer in
            (BN_bin2bn(buffer.baseAddress, Int32(p256FieldLength), nil),
             BN_bin2bn(buffer.baseAddress! + p256FieldLength, Int32(p256FieldLength), nil))
        }
        guard let r = halves.0, let s = halves.1, ECDSA_SIG_set0(value, r, s) == 1 else {  // set0 takes r and s
            BN_free(halves.0)
            BN_free(halves.1)
            return nil
        }
        let length = i2d_ECDSA_SIG(value, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(value, &cursor)
        }
        return written == length ? der : nil
    }
}

@available(*, unavailable)
extension SignatureKey: Sendable {}
