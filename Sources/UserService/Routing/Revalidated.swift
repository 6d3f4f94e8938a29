import Crypto
import HTTP

/// A public answer that caches may keep for `maxAge` seconds and then revalidate: it carries an `ETag` (a hash of
/// its bytes), and a request whose `If-None-Match` names that tag (or `*`) gets 304 Not Modified without a body.
struct Revalidated<Body: ResponseBody>: ResponseBody {
    static var contentType: String { Body.contentType }
    static var bodySchema: Schema { Body.bodySchema }
    static var exampleBody: [UInt8]? { Body.exampleBody }

    let body: [UInt8]
    let headers: [(String, String)]
    let statusOverride: HTTPStatus?

    /// `tag`: the entity tag of `answer`'s bytes (`entityTag(of:)`), when the caller keeps it.
    init(_ answer: Body, tag: String? = nil, maxAge: Int, request: HTTPRequest) throws {
        let bytes = answer.body
        let tag = try tag ?? Self.entityTag(of: bytes)
        let notModified = request.ifNoneMatch.map { Self.matches($0, tag) } ?? false
        body = notModified ? [] : bytes
        statusOverride = notModified ? .notModified : nil
        headers = answer.headers + [("Cache-Control", "public, max-age=\(maxAge)"), ("ETag", tag)]
    }

    /// A strong tag: the base64url of the first 16 bytes of the SHA-256 of the body, quoted. Throws `LibcryptoError`.
    static func entityTag(of bytes: [UInt8]) throws -> String {
        "\"" + Base64URL.encode(try Digest.sha256(bytes).prefix(16)) + "\""
    }

    /// RFC 9110 §13.1.2: `*`, or a list of tags compared weakly (a `W/` prefix is ignored).
    static func matches(_ ifNoneMatch: String, _ tag: String) -> Bool {
        ifNoneMatch.split(separator: ",").contains { candidate in
            let trimmed = candidate.trimmingWhitespace()
            return trimmed == "*" || (trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed) == tag
        }
    }
}
