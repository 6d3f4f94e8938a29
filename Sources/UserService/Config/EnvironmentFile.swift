import HTTP

/// Reads a file in systemd's `EnvironmentFile=` format: `KEY=VALUE` lines, `#` and `;` comments,
/// values optionally in single or double quotes, a trailing backslash continuing a line.
public enum EnvironmentFile {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let line: Int
        public let problem: String
        public var description: String { line > 0 ? "\(path):\(line): \(problem)" : "\(path): \(problem)" }
    }

    public static func parse(_ text: String, path: String = "<env>") throws(Failure) -> [String: String] {
        var result: [String: String] = [:]
        var pending = ""
        var pendingStart = 0
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            if pending.isEmpty { pendingStart = offset + 1 }
            if line.hasSuffix("\\") {
                pending += line.dropLast()
                continue
            }
            line = pending + line
            pending = ""
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw Failure(path: path, line: pendingStart, problem: "expected KEY=VALUE")
            }
            let key = trimmed[..<equals].trimmingWhitespace()
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw Failure(path: path, line: pendingStart, problem: "invalid variable name")
            }
            result[key] = try unquote(trimmed[trimmed.index(after: equals)...].trimmingWhitespace(), path: path, line: pendingStart)
        }
        return result
    }

    private static func unquote(_ value: String, path: String, line: Int) throws(Failure) -> String {
        guard let quote = value.first, quote == "\"" || quote == "'" else { return value }
        guard value.count >= 2, value.last == quote else { throw Failure(path: path, line: line, problem: "unterminated quote") }
        let inner = value.dropFirst().dropLast()
        guard quote == "\"" else { return String(inner) }
        var out = ""
        var escaping = false
        for char in inner {
            if escaping { out.append(char); escaping = false } else if char == "\\" { escaping = true } else { out.append(char) }
        }
        return out
    }

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(Failure) -> [String: String] {
        guard let text = FileReader.readText(path) else { throw Failure(path: path, line: 0, problem: "cannot be read") }
        return try parse(text, path: path)
    }
}
