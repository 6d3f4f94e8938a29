import HTTP

/// Turns FastCGI parameters into an `HTTPRequest`.
enum RequestReader {
    /// Parameters as nginx sends them. `PATH_INFO` is the path below the mount point; when it is empty
    /// (a plain `include fastcgi_params`), `SCRIPT_NAME` holds the whole path and there is no prefix.
    static func make(parameter: (StaticString) -> String?, body: (Int) -> [UInt8], bodyLimit: Int) -> HTTPRequest {
        let pathInfo = parameter("PATH_INFO") ?? ""
        let scriptName = parameter("SCRIPT_NAME") ?? ""
        let (path, mount) = pathInfo.isEmpty ? (scriptName.isEmpty ? "/" : scriptName, "") : (pathInfo, scriptName)
        let contentLength = parameter("CONTENT_LENGTH").flatMap { Int($0) } ?? 0
        // Host, scheme and If-None-Match serve only the RFC 8615 well-known URIs (jwks_uri, the key set's ETag): no
        // other request looks them up (three lookups and copies, about 3k instructions per request).
        let wellKnown = path.utf8.starts(with: "/.well-known/".utf8)
        return HTTPRequest(
            method: parameter("REQUEST_METHOD") ?? "GET",
            path: path,
            mountPath: mount,
            query: parameter("QUERY_STRING") ?? "",
            authorization: parameter("HTTP_AUTHORIZATION"),
            userAgent: parameter("HTTP_USER_AGENT"),
            contentType: parameter("CONTENT_TYPE"),
            contentLength: contentLength,
            // A body over the limit is not read: the application answers 413 from the declared length.
            body: contentLength > 0 && contentLength <= bodyLimit ? body(contentLength) : [],
            remoteAddress: parameter("REMOTE_ADDR"),
            requestID: parameter("REQUEST_ID"),
            host: wellKnown ? parameter("HTTP_HOST") : nil,
            scheme: wellKnown ? parameter("REQUEST_SCHEME") : nil,
            ifNoneMatch: wellKnown ? parameter("HTTP_IF_NONE_MATCH") : nil)
    }

    static func read(_ request: FastCGIRequest, bodyLimit: Int) -> HTTPRequest {
        make(parameter: request.parameter, body: request.readBody, bodyLimit: bodyLimit)
    }
}
