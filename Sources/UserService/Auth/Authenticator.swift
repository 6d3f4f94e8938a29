import HTTP

/// Who is calling: the user of a live session, checked on every protected request.
struct Caller {
    let user: UserRecord
    let sessionID: String
}

/// Bearer authentication: verify the access token, then find the user of its live session (`SessionCheck`: the
/// worker's cache for reads, else one query).
struct Authenticator {
    let tokens: AccessTokens
    let sessions: SessionCheck

    func authenticate(_ request: HTTPRequest) throws -> Caller {
        guard let header = request.authorization, header.count > 7,
              header.prefix(7).lowercased() == "bearer " else { throw APIError.unauthorized("Not authenticated") }
        let token = String(header.dropFirst(7).drop { $0 == " " })
        guard let claims = try tokens.verify(token), UUIDText.isValid(claims.sessionID), UUIDText.isValid(claims.userID),
              let user = try sessions.user(sessionID: claims.sessionID, userID: claims.userID,
                                           cacheable: request.method == "GET" || request.method == "HEAD")
        else { throw APIError.unauthorized() }
        return Caller(user: user, sessionID: claims.sessionID)
    }
}

enum UUIDText {
    /// True for the canonical 8-4-4-4-12 hex form, which PostgreSQL's uuid type accepts.
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (48...57).contains(byte) || (97...102).contains(byte) || (65...70).contains(byte) else { return false }
            }
        }
        return true
    }
}
