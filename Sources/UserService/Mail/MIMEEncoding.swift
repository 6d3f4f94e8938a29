import Crypto

/// The encodings that keep a message 7-bit and its lines short: quoted-printable bodies (RFC 2045 §6.7) and
/// RFC 2047 encoded words for header text that is not plain ASCII.
enum MIMEEncoding {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// `text` as quoted-printable with CRLF line endings: the text's own line breaks (LF or CRLF) become hard
    /// breaks, and longer lines are cut with soft breaks (`=` at the end) so that none exceeds 76 octets.
    static func quotedPrintable(_ text: String) -> String {
        var out: [UInt8] = []
        let lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            if index > 0 { out += [13, 10] }
            let line = rawLine.last == 13 ? rawLine.dropLast() : rawLine
            var length = 0
            for (position, byte) in zip(line.indices, line) {
                let isLast = position == line.index(before: line.endIndex)
                // Printable ASCII but `=` stands for itself; a space or tab too, except at the end of a line
                // (where transport may strip it).
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast)
                let encoded: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]]
                // A soft break ("=" then CRLF) when this piece would pass 75 octets, or 76 on the line's last piece.
                if length + encoded.count > (isLast ? 76 : 75) {
                    out += [UInt8(ascii: "="), 13, 10]
                    length = 0
                }
                out += encoded
                length += encoded.count
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` as RFC 2047 `=?UTF-8?B?...?=` words, each holding whole characters and short enough to follow a
    /// header's name on a 78-octet line, to be joined by folding white space (`CRLF SP`). Cut between Unicode
    /// scalars (> Each 'encoded-word' MUST represent an integral number of characters. — RFC 2047 §5: a UTF-8
    /// sequence), not between grapheme clusters, which have no length limit: a letter with 400 combining accents
    /// is one cluster of 801 octets, and a word holding it would make a line the relay refuses.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        // 39 octets become 52 base64 characters: with `=?UTF-8?B?` and `?=`, 64 (RFC 2047 allows 75).
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 39, !chunk.isEmpty {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    private static func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?\(base64(bytes))?=" }

    /// Standard base64 with padding (RFC 4648 §4), from the base64url alphabet (§5).
    static func base64(_ bytes: [UInt8]) -> String {
        var text = String(Base64URL.encode(bytes).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while text.utf8.count % 4 != 0 { text += "=" }
        return text
    }
}
