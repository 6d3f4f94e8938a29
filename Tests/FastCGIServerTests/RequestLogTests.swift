import Testing
@testable import FastCGIServer

@Suite struct RequestLogTests {
    func line(microseconds: Int, method: String = "GET", requestID: String? = "abc", remoteAddress: String? = nil) -> String {
        var log = RequestLog()
        log.append(method: method, route: "/api/v1/auth/me", status: 200, microseconds: microseconds, requestID: requestID,
                   remoteAddress: remoteAddress, pid: 42)
        return String(decoding: log.buffer, as: UTF8.self)
    }

    @Test func durationsHaveThreeDecimalsOfMilliseconds() {
        #expect(line(microseconds: 5) == "method=GET route=/api/v1/auth/me status=200 duration_ms=0.005 request_id=abc remote_addr=- pid=42\n")
        #expect(line(microseconds: 1_234).contains(" duration_ms=1.234 "))
        #expect(line(microseconds: 120_050).contains(" duration_ms=120.050 "))
        #expect(line(microseconds: 0).contains(" duration_ms=0.000 "))
    }

    /// A FastCGI client that bypasses nginx sends what it likes: it never starts a line of its own.
    @Test func controlCharactersSentByTheClientCannotStartALine() {
        let text = line(microseconds: 1, method: "GET\nmethod=POST", requestID: "x\r\ny", remoteAddress: "1.2.3.4\u{7F}")
        #expect(text == "method=GET?method=POST route=/api/v1/auth/me status=200 duration_ms=0.001 request_id=x??y remote_addr=1.2.3.4? pid=42\n")
    }

    @Test func linesWaitUntilTheBatchIsFull() {
        var log = RequestLog()
        log.append(method: "GET", route: "/", status: 200, microseconds: 1, requestID: nil, remoteAddress: nil, pid: 1)
        #expect(!log.isEmpty)
        let one = log.buffer.count
        while log.buffer.count + one < RequestLog.limit {
            log.append(method: "GET", route: "/", status: 200, microseconds: 1, requestID: nil, remoteAddress: nil, pid: 1)
        }
        #expect(!log.isEmpty)
    }
}
