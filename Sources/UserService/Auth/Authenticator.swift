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
        guard let header = request.authorization, let token = Self.bearerToken(header) else {
            throw APIError.unauthorized("Not authenticated")
        }
        guard let claims = try tokens.verify(token), UUIDText.isValid(claims.sessionID), UUIDText.isValid(claims.userID),
              let user = try sessions.user(sessionID: claims.sessionID, userID: claims.userID,
                                           cacheable: request.method == "GET" || request.method == "HEAD")
        else { throw APIError.unauthorized() }
        return Caller(user: user, sessionID: claims.sessionID)
    }

    /// The token of an `Authorization: Bearer TOKEN` header (the scheme in any letter case, spaces after it
    /// skipped), or nil. Compares bytes: nothing is allocated but the token.
    static func bearerToken(_ header: String) -> String? {
        let bytes = header.utf8
        guard bytes.count > 7 else { return nil }
        for (byte, expected) in zip(bytes, "bearer ".utf8) where (byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0)) != expected {
            return nil
        }
        return String(Substring(bytes.dropFirst(7).drop { $0 == UInt8(ascii: " ") }))
    }
}

enum UUIDText {
    /// True for the canonical 8-4-4-4-12 hex form, which PostgreSQL's uuid type accepts.
    static func isValid(_ text: String) -> Bool {
        guard text.utf8.count == 36 else { return false }
        for (index, byte) in text.utf8.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (48...57).contains(byte) || (97...102).contains(byte) || (65...70).contains(byte) else { return false }
            }
        }
        return true
    }
}
