/// PostgreSQL's text form of one-dimensional arrays, both ways.
public enum PostgresArray {
    /// Parses `{a,"b \"c\"",NULL}`; nil when the text is not such an array.
    public static func parse(_ text: String) -> [String?]? {
        let b = Array(text.utf8)
        guard b.first == UInt8(ascii: "{"), b.last == UInt8(ascii: "}") else { return nil }
        if b.count == 2 { return [] }
        var items: [String?] = []
        var i = 1
        while i < b.count - 1 {
            var item: [UInt8] = []
            var quoted = false
            if b[i] == UInt8(ascii: "\"") {
                quoted = true
                i += 1
                while i < b.count - 1, b[i] != UInt8(ascii: "\"") {
                    if b[i] == UInt8(ascii: "\\") { i += 1 }
                    item.append(b[i])
                    i += 1
                }
                guard i < b.count - 1 else { return nil }
                i += 1
            } else {
                while i < b.count - 1, b[i] != UInt8(ascii: ",") {
                    guard b[i] != UInt8(ascii: "{") else { return nil }  // nested arrays are not read here
                    item.append(b[i])
                    i += 1
                }
            }
            let value = String(decoding: item, as: UTF8.self)
            items.append(!quoted && value == "NULL" ? nil : value)
            if i < b.count - 1 {
                guard b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        }
        return items
    }

    /// The text form of `values`, every element quoted, for binding as a `text[]` parameter.
    public static func literal(_ values: [String?]) -> String {
        var out = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            guard let value else { out += "NULL"; continue }
            out += "\""
            for char in value.unicodeScalars {
                if char == "\"" || char == "\\" { out += "\\" }
                out.unicodeScalars.append(char)
            }
            out += "\""
        }
        return out + "}"
    }
}
