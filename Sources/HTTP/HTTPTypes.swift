public enum HTTPMethod: String, Sendable, CaseIterable {
    case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE", head = "HEAD", options = "OPTIONS"
}

public struct HTTPStatus: Hashable, Sendable {
    public let code: Int

    public init(_ code: Int) { self.code = code }

    public static let ok = HTTPStatus(200), created = HTTPStatus(201), accepted = HTTPStatus(202), noContent = HTTPStatus(204)
    public static let notModified = HTTPStatus(304), temporaryRedirect = HTTPStatus(307)
    public static let badRequest = HTTPStatus(400), unauthorized = HTTPStatus(401), forbidden = HTTPStatus(403)
    public static let notFound = HTTPStatus(404), methodNotAllowed = HTTPStatus(405), conflict = HTTPStatus(409)
    public static let contentTooLarge = HTTPStatus(413), unprocessableEntity = HTTPStatus(422)
    public static let tooManyRequests = HTTPStatus(429), internalServerError = HTTPStatus(500)
    public static let serviceUnavailable = HTTPStatus(503)

    public var reasonPhrase: String {
        switch code {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 413: return "Content Too Large"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}

/// A request as the FastCGI layer hands it over: what routing and handlers need, nothing more.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path below the mount point (`PATH_INFO`), percent-decoded by nginx.
    public var path: String
    /// The mount point (`SCRIPT_NAME`), used only to build links.
    public var mountPath: String
    public var query: String
    public var authorization: String?
    public var userAgent: String?
    /// The body's media type as sent (`CONTENT_TYPE`), parameters included.
    public var contentType: String?
    /// The declared body length; a body over the limit is not read.
    public var contentLength: Int
    public var body: [UInt8]
    /// The peer address nginx saw (`REMOTE_ADDR`), never a client-supplied header.
    public var remoteAddress: String?
    public var requestID: String?
    /// `Host` as the client sent it (port included), and the scheme nginx served it on: to build absolute links
    /// (`jwks_uri`), never to decide anything. Read for paths under `/.well-known/` only (nil elsewhere).
    public var host: String?
    public var scheme: String?
    /// `If-None-Match`, for answers with an `ETag`; read for paths under `/.well-known/` only.
    public var ifNoneMatch: String?

    public init(method: String, path: String, mountPath: String = "", query: String = "", authorization: String? = nil,
                userAgent: String? = nil, contentType: String? = nil, contentLength: Int? = nil, body: [UInt8] = [],
                remoteAddress: String? = nil, requestID: String? = nil, host: String? = nil, scheme: String? = nil,
                ifNoneMatch: String? = nil) {
        self.method = method
        self.path = path
        self.mountPath = mountPath
        self.query = query
        self.authorization = authorization
        self.userAgent = userAgent
        self.contentType = contentType
        self.contentLength = contentLength ?? body.count
        self.body = body
        self.remoteAddress = remoteAddress
        self.requestID = requestID
        self.host = host
        self.scheme = scheme
        self.ifNoneMatch = ifNoneMatch
    }

    /// Every value of query parameter `name`, in order, percent-decoded (`?skills=a&skills=b`).
    public func queryValues(_ name: String) -> [String] {
        query.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard PercentDecoding.decode(parts[0]) == name else { return nil }
            return parts.count > 1 ? PercentDecoding.decode(parts[1]) : ""
        }
    }

    /// The value of query parameter `name`, percent-decoded (`+` as space).
    public func queryParameter(_ name: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if PercentDecoding.decode(parts[0]) == name {
                return parts.count > 1 ? PercentDecoding.decode(parts[1]) : ""
            }
        }
        return nil
    }
}

public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ value: JSONValue, status: HTTPStatus = .ok, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: value.bytes)
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// A header that would split or corrupt the response: a control character (CR, LF, NUL, ...) in its name or
    /// value. Such a header is never written.
    public static func isUnsafe(_ header: (String, String)) -> Bool {
        header.0.utf8.contains { $0 < 0x20 || $0 == 0x7F } || header.1.utf8.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
    }
}
