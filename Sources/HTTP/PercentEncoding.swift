public enum PercentEncoding {
    private static let hexDigits = Array("0123456789ABCDEF".unicodeScalars)

    /// `path` with every byte that may not stand raw in a URL path (RFC 3986 `pchar` and `/`) percent-encoded,
    /// so a decoded path can go back into a `Location` header.
    public static func path(_ path: String) -> String {
        encode(path) { byte in
            isUnreserved(byte) || "!$&'()*+,;=:@/".utf8.contains(byte)
        }
    }

    /// `value` with everything but RFC 3986's unreserved characters percent-encoded: safe as one query parameter's
    /// value (`&`, `=`, `+` and `#` included).
    public static func queryValue(_ value: String) -> String { encode(value, keeping: isUnreserved) }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func encode(_ text: String, keeping: (UInt8) -> Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            if keeping(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out.unicodeScalars.append(contentsOf: ["%", hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
            }
        }
        return out
    }
}

enum PercentDecoding {
    static func decode(_ text: Substring) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "+") {
                out.append(0x20)
            } else if byte == UInt8(ascii: "%"), bytes.count >= 2,
                      let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(value)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
