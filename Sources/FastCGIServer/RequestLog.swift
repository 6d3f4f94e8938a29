import HTTP

/// The worker's request lines, written to stderr in batches: at most `limit` bytes wait, and the worker flushes
/// before it blocks for the next request, so a line is late only while requests keep arriving.
struct RequestLog {
    static let limit = 4096
    private var buffer = ""

    var isEmpty: Bool { buffer.isEmpty }

    mutating func append(_ line: String) {
        buffer += line
        buffer += "\n"
        if buffer.utf8.count >= Self.limit { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        buffer.removeLast()  // Log.write adds the last newline
        Log.write(buffer)
        buffer = ""
    }
}
