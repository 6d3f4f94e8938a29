@testable import FastCGIServer
import HTTP
import Testing

@Suite struct RequestReaderTests {
    func read(_ parameters: [String: String], body: [UInt8] = [], limit: Int = 100) -> (request: HTTPRequest, bodyRead: Bool) {
        var bodyRead = false
        let request = RequestReader.make(parameter: { parameters["\($0)"] }, body: { count in
            bodyRead = true
            return Array(body.prefix(count))
        }, bodyLimit: limit)
        return (request, bodyRead)
    }

    @Test func pathBelowTheMountPoint() {
        let (request, _) = read(["PATH_INFO": "/api/v1/auth/me", "SCRIPT_NAME": "/users-svc", "REQUEST_METHOD": "GET",
                                 "HTTP_AUTHORIZATION": "Bearer x", "REMOTE_ADDR": "10.1.2.3", "REQUEST_ID": "abc", "QUERY_STRING": "a=1"])
        #expect(request.path == "/api/v1/auth/me")
        #expect(request.mountPath == "/users-svc")
        #expect(request.authorization == "Bearer x")
        #expect(request.remoteAddress == "10.1.2.3")
        #expect(request.requestID == "abc")
        #expect(request.queryParameter("a") == "1")
    }

    @Test func plainFastCGIParamsRouteOnScriptName() {
        let (request, _) = read(["SCRIPT_NAME": "/health", "PATH_INFO": ""])
        #expect(request.path == "/health")
        #expect(request.mountPath == "")
        #expect(read([:]).request.path == "/")
    }

    /// Host, scheme and If-None-Match are looked up under /.well-known/ only: every other request skips them.
    @Test func hostSchemeAndConditionalHeadersOnlyForWellKnownPaths() {
        let headers = ["HTTP_HOST": "auth.example", "REQUEST_SCHEME": "https", "HTTP_IF_NONE_MATCH": "\"t\""]
        for (mount, path) in [("", "/.well-known/jwks.json"), ("/users-svc", "/.well-known/openid-configuration")] {
            let request = read(headers.merging(["PATH_INFO": path, "SCRIPT_NAME": mount]) { $1 }).request
            #expect(request.host == "auth.example" && request.scheme == "https" && request.ifNoneMatch == "\"t\"")
        }
        for path in ["/", "/api/v1/auth/me", "/.well-known", "/x/.well-known/jwks.json"] {
            var asked: [String] = []
            let request = RequestReader.make(parameter: { name in
                asked.append("\(name)")
                return (headers.merging(["PATH_INFO": path]) { $1 })["\(name)"]
            }, body: { _ in [] }, bodyLimit: 100)
            #expect(request.host == nil && request.scheme == nil && request.ifNoneMatch == nil, "\(path)")
            #expect(Set(asked).isDisjoint(with: headers.keys), "\(path): \(asked)")
        }
    }

    @Test func bodyOverTheLimitIsNotRead() {
        let small = read(["CONTENT_LENGTH": "3"], body: [1, 2, 3])
        #expect(small.request.body == [1, 2, 3] && small.bodyRead)
        let large = read(["CONTENT_LENGTH": "101"], body: Array(repeating: 0, count: 101))
        #expect(large.request.body.isEmpty && !large.bodyRead)
        #expect(large.request.contentLength == 101)
    }

    @Test func listenAddresses() {
        #expect(ListenAddress("unix:/run/x.sock") == .unix(path: "/run/x.sock"))
        #expect(ListenAddress("127.0.0.1:9000") == .tcp(host: "127.0.0.1", port: 9000))
        #expect(ListenAddress("unix:") == nil)
        #expect(ListenAddress("nothing") == nil)
        #expect(ListenAddress("host:99999") == nil)
    }
}
