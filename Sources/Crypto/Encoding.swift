/// Base64url without padding (RFC 7515 §2).
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        return table
    }()

    @inlinable
    public static func encode<Bytes: Collection<UInt8>>(_ data: Bytes) -> String {
        data.withContiguousBytes { encode(bytes: $0) }
    }

    @usableFromInline
    static func encode(bytes input: UnsafeRawBufferPointer) -> String {
        let outputCount = (input.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: outputCount) { out in
            var i = 0, o = 0
            func put(_ value: UInt32) {
                out[o] = alphabet[Int(value & 63)]
                o += 1
            }
            while i + 2 < input.count {
                let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                put(n >> 18); put(n >> 12); put(n >> 6); put(n)
                i += 3
            }
            if input.count - i == 1 {
                let n = UInt32(input[i]) << 16
                put(n >> 18); put(n >> 12)
            } else if input.count - i == 2 {
                let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                put(n >> 18); put(n >> 12); put(n >> 6)
            }
            return o
        }
    }

    /// Decodes unpadded base64url; nil for any other character, padding or an impossible length.
    @inlinable
    public static func decode<Text: Collection<UInt8>>(_ text: Text) -> [UInt8]? {
        text.withContiguousBytes { decode(bytes: $0) }
    }

    @usableFromInline
    static func decode(bytes text: UnsafeRawBufferPointer) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(text.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for char in text {
            let value = reverse[Int(char)]
            if value == 0xFF { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // A length of 4k+1 characters cannot come from any byte string; leftover bits must be zero.
        if bits >= 6 || buffer & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return out
    }
}
