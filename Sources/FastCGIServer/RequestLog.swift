import HTTP

/// The worker's request lines, written to stderr in batches: at most `limit` bytes wait, and the worker flushes
/// before it blocks for the next request, so a line is late only while requests keep arriving. Lines are built as
/// bytes in one buffer that is kept between batches: logging a request allocates nothing. The values a FastCGI
/// client sends (method, request id, address) are written with control characters as `?`: a client that reaches
/// the pool without nginx cannot forge a line.
struct RequestLog {
    static let limit = 4096
    /// The lines not yet written.
    private(set) var buffer: [UInt8]

    init() {
        buffer = []
        buffer.reserveCapacity(Self.limit + 512)
    }

    var isEmpty: Bool { buffer.isEmpty }

    /// `method=GET route=/api/v1/auth/me status=200 duration_ms=1.234 request_id=… remote_addr=… pid=…`
    mutating func append(method: String, route: String, status: Int, microseconds: Int, requestID: String?,
                         remoteAddress: String?, pid: Int32) {
        buffer.append("method=")
        appendSent(method)
        buffer.append(" route=")
        buffer.append(route)
        buffer.append(" status=")
        buffer.appendDecimal(status)
        buffer.append(" duration_ms=")
        buffer.appendDecimal(microseconds / 1000)
        buffer.append(UInt8(ascii: "."))
        let fraction = microseconds % 1000
        buffer.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        buffer.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        buffer.append(UInt8(ascii: "0") + UInt8(fraction % 10))
        buffer.append(" request_id=")
        appendSent(requestID ?? "-")
        buffer.append(" remote_addr=")
        appendSent(remoteAddress ?? "-")
        buffer.append(" pid=")
        buffer.appendDecimal(Int(pid))
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= Self.limit { flush() }
    }

    private mutating func appendSent(_ value: String) {
        for byte in value.utf8 { buffer.append(byte < 0x20 || byte == 0x7F ? UInt8(ascii: "?") : byte) }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        Log.write(lines: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
