/// A strict RFC 8259 parser whose cost grows linearly with its input: nesting depth and the members of one
/// object or array are bounded, and repeated keys are found through a hash of their bytes, so a hostile body can
/// neither exhaust the stack nor make the parser quadratic.
public struct JSONParser {
    public struct Limits: Sendable, Equatable {
        public var maximumDepth: Int
        /// Members of one object, or elements of one array.
        public var maximumMembers: Int

        public init(maximumDepth: Int = 32, maximumMembers: Int = 10_000) {
            self.maximumDepth = maximumDepth
            self.maximumMembers = maximumMembers
        }
    }

    public struct Failure: Error, Equatable {
        /// Byte offset where parsing stopped, as FastAPI reports it in `loc`.
        public let position: Int
        public let reason: String
        /// Set when an object or array has more than `maximumMembers`: the keys and indices that lead to it.
        public var tooLongAt: [JSONValue]?
    }

    private let bytes: [UInt8]
    private let limits: Limits
    private var index = 0

    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes: bytes, limits: limits)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.failure("Extra data") }
        return value
    }

    private init(bytes: [UInt8], limits: Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    private func failure(_ reason: String) -> Failure { Failure(position: index, reason: reason) }

    private func tooManyMembers() -> Failure {
        Failure(position: index, reason: "Too many members (at most \(limits.maximumMembers))", tooLongAt: [])
    }

    /// Adds the key or index of the member being parsed to a "too many members" failure from inside it.
    private static func within(_ step: JSONValue, _ failure: Failure) -> Failure {
        var failure = failure
        failure.tooLongAt?.insert(step, at: 0)
        return failure
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw failure("Expecting value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("Expecting value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected in
            index + count <= bytes.count && bytes[index..<index + count].elementsEqual(expected)
        }
        guard matches else { throw failure("Expecting value") }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= limits.maximumDepth else { throw failure("Maximum nesting depth exceeded") }
        index += 1
        var members: [(String, JSONValue)] = []
        var keys = KeyIndex()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw failure("Expecting property name enclosed in double quotes")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("Expecting ':' delimiter") }
            index += 1
            skipWhitespace()
            let value: JSONValue
            do { value = try parseValue(depth: depth) } catch { throw Self.within(.string(key), error) }
            // A repeated key keeps the last value, as Python's json module does.
            if let existing = keys.position(of: key) {
                members[existing].1 = value
            } else {
                guard members.count < limits.maximumMembers else { throw tooManyMembers() }
                keys.append(key)
                members.append((key, value))
            }
            skipWhitespace()
            guard index < bytes.count else { throw failure("Expecting ',' delimiter") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw failure("Expecting ',' delimiter")
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= limits.maximumDepth else { throw failure("Maximum nesting depth exceeded") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            skipWhitespace()
            guard elements.count < limits.maximumMembers else { throw tooManyMembers() }
            do { elements.append(try parseValue(depth: depth)) } catch { throw Self.within(.integer(elements.count), error) }
            skipWhitespace()
            guard index < bytes.count else { throw failure("Expecting ',' delimiter") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            throw failure("Expecting ',' delimiter")
        }
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw failure("Expecting value") }
        if bytes[index] == UInt8(ascii: "0") { index += 1 } else { while index < bytes.count, isDigit(bytes[index]) { index += 1 } }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("Expecting value") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("Expecting value") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        guard let value = Double(text), value.isFinite else { throw Failure(position: start, reason: "Number out of range") }
        return .number(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func parseString() throws(Failure) -> String {
        index += 1
        // Fast path: no escapes, so the string is the bytes up to the closing quote.
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            guard let text = String(validating: bytes[index..<end], as: UTF8.self) else { throw failure("Invalid UTF-8") }
            index = end + 1
            return text
        }
        var plain: [UInt8] = Array(bytes[index..<end])
        index = end
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                guard let text = String(validating: plain, as: UTF8.self) else { throw failure("Invalid UTF-8") }
                return text
            }
            if byte < 0x20 { throw failure("Invalid control character") }
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                plain.append(byte)
                continue
            }
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): plain.append(0x22)
            case UInt8(ascii: "\\"): plain.append(0x5C)
            case UInt8(ascii: "/"): plain.append(0x2F)
            case UInt8(ascii: "b"): plain.append(0x08)
            case UInt8(ascii: "f"): plain.append(0x0C)
            case UInt8(ascii: "n"): plain.append(0x0A)
            case UInt8(ascii: "r"): plain.append(0x0D)
            case UInt8(ascii: "t"): plain.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw failure("Invalid \\uXXXX escape")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("Invalid \\uXXXX escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw failure("Invalid \\uXXXX escape") }
                plain.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw failure("Invalid \\escape")
            }
        }
        throw failure("Unterminated string")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("Invalid \\uXXXX escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("Invalid \\uXXXX escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}

/// The keys of one object so far, by their UTF-8 bytes: never compared as Swift strings, whose comparison
/// normalises Unicode (keys differing only in combining marks made that quadratic and slow). A few keys are
/// searched in order; past `linearLimit` they move to a hash table, so each key costs expected constant time.
private struct KeyIndex {
    private static let linearLimit = 16
    private var few: [String] = []
    private var many: [[UInt8]: Int] = [:]

    func position(of key: String) -> Int? {
        if many.isEmpty { return few.firstIndex { $0.utf8.elementsEqual(key.utf8) } }
        return many[Array(key.utf8)]
    }

    /// Records `key` as the next member.
    mutating func append(_ key: String) {
        if many.isEmpty && few.count < Self.linearLimit {
            few.append(key)
            return
        }
        if many.isEmpty {
            for (position, earlier) in few.enumerated() { many[Array(earlier.utf8)] = position }
            few = []
        }
        many[Array(key.utf8)] = many.count
    }
}
