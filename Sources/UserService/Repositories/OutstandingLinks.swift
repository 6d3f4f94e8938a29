import Postgres

/// The links mailed to an account that still work: reset links (`password_resets`), links that verify its address
/// and links that would move it to a new address (`email_verifications`, the latter with `replaces_email`). Which of
/// them a change to the account ends is decided here, and nowhere else; each change calls `end` on its own
/// transaction, after it locked the account's row (users first, the order every writer of an account's rows takes):
///
/// | the change (`Cause`)                                                 | reset links | verification | change of address |
/// |----------------------------------------------------------------------|-------------|--------------|-------------------|
/// | a password changed or reset                                          | ended       | kept         | ended             |
/// | every session revoked (logout-all, revoke-sessions)                  | kept        | kept         | ended             |
/// | the account deactivated (administration API or command line)         | ended       | ended        | ended             |
/// | the address changed (a change of address confirmed)                  | ended       | ended        | ended             |
///
/// A change of address ends with the sessions because whoever asked for it held a session and the password: once
/// the owner has reset the password or logged out everywhere, a link mailed to the thief's address must not move
/// the account there (and give the thief the reset links from then on). A deactivated account keeps no link at
/// all, so reactivating it revives none.
enum OutstandingLinks {
    enum Cause {
        case passwordChanged
        case sessionsRevoked
        case deactivated
        case addressChanged

        var endsResetLinks: Bool {
            switch self {
            case .passwordChanged, .deactivated, .addressChanged: true
            case .sessionsRevoked: false
            }
        }

        var endsVerificationLinks: Bool {
            switch self {
            case .deactivated, .addressChanged: true
            case .passwordChanged, .sessionsRevoked: false
            }
        }
    }

    static let endResetLinks = PreparedStatement("outstanding_links_end_resets", """
        UPDATE password_resets SET revoked_at = now() WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL
        """)
    /// Changes of address always end; links that verify the account's own address only with `$2`.
    static let endAddressLinks = PreparedStatement("outstanding_links_end_address", """
        UPDATE email_verifications SET revoked_at = now()
        WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND (replaces_email IS NOT NULL OR $2)
        """)

    /// Ends the links of account `userID` that `cause` ends, on the caller's transaction.
    static func end(after cause: Cause, userID: String, on connection: PostgresConnection) throws {
        if cause.endsResetLinks { try connection.query(endResetLinks, [userID]) }
        try connection.query(endAddressLinks, [userID, cause.endsVerificationLinks])
    }
}
