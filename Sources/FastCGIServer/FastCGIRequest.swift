internal import CFastCGI
import HTTP

/// Owns one `FCGX_Request` at a stable address, reused for every request a worker accepts.
final class FastCGIRequest {
    private let raw: UnsafeMutablePointer<FCGX_Request>
    private var head: [UInt8] = []

    /// `listenFD` is the pool's socket (fd 0 in a worker).
    init(listenFD: Int32) {
        raw = .allocate(capacity: 1)
        FCGX_InitRequest(raw, listenFD, 0)
        head.reserveCapacity(1024)
    }

    deinit {
        FCGX_Free(raw, 1)
        raw.deallocate()
    }

    enum AcceptResult { case accepted, nothing, failed(Int32) }

    /// Accepts one request; on a non-blocking socket another worker may have won (`nothing`).
    func accept() -> AcceptResult {
        let result = FCGX_Accept_r(raw)
        if result >= 0 { return .accepted }
        // libfcgi returns -errno; EAGAIN/EWOULDBLOCK (11) and EINTR (4) mean "try again".
        return result == -11 || result == -4 ? .nothing : .failed(result)
    }

    /// A parameter's value. The name is a literal: its null-terminated bytes go to libfcgi without a copy.
    func parameter(_ name: StaticString) -> String? {
        precondition(name.hasPointerRepresentation)
        let cName = UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
        guard let value = FCGX_GetParam(cName, raw.pointee.envp) else { return nil }
        return String(cString: value)
    }

    /// Reads up to `limit` bytes of the request body.
    func readBody(limit: Int) -> [UInt8] {
        guard limit > 0 else { return [] }
        var body = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let count = body.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: limit) {
                    FCGX_GetStr($0 + filled, Int32(limit - filled), raw.pointee.in)
                }
            }
            if count <= 0 { break }
            filled += Int(count)
        }
        body.removeLast(limit - filled)
        return body
    }

    /// Writes a CGI-style response: `Status:` line, headers, blank line, body. The head is built as bytes in a
    /// buffer kept from one request to the next.
    func write(_ response: HTTPResponse) {
        head.removeAll(keepingCapacity: true)
        head.append("Status: ")
        head.appendDecimal(response.status.code)
        head.append(UInt8(ascii: " "))
        head.append(response.status.reasonPhrase)
        head.append("\r\n")
        for (name, value) in response.headers {
            // Never written: a control character would split or corrupt the response (the value is not logged).
            guard !HTTPResponse.isUnsafe((name, value)) else {
                let printableName = String(String.UnicodeScalarView(name.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
                Log.write("worker: dropped the response header \(printableName): its value has a control character")
                continue
            }
            head.append(name)
            head.append(": ")
            head.append(value)
            head.append("\r\n")
        }
        head.append("Content-Length: ")
        head.appendDecimal(response.body.count)
        head.append("\r\n\r\n")
        put(head)
        put(response.body)
    }

    private func put(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                _ = FCGX_PutStr($0, Int32(buffer.count), raw.pointee.out)
            }
        }
    }

    /// Ends the request and closes the connection.
    ///
    /// > Call FCGX_Finish_r right after writing the response: otherwise nginx waits until the next accept.
    /// libfcgi closes with shutdown, a wait for the peer's EOF and a drain (three system calls) so that unread
    /// input cannot turn the close into a reset. When all input has been read that guards nothing, and a
    /// detached request is closed at once.
    func finish() {
        if FCGX_HasSeenEOF(raw.pointee.in) != 0 { FCGX_Detach(raw) }
        FCGX_Finish_r(raw)
    }
}

@available(*, unavailable)
extension FastCGIRequest: Sendable {}

enum FastCGILibrary {
    /// `FCGX_Accept_r` fails unless this was called first.
    static func initialize() { _ = FCGX_Init() }
}
