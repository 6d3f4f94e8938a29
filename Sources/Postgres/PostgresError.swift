/// A failure reported by libpq or the server.
///
/// `description` names only the SQLSTATE and the constraint: the server's message can echo the
/// offending values (an email, say), so it is kept in `serverMessage` for deliberate use only.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// No connection could be opened.
        case connectionFailed
        /// The connection broke during a call (server restarted, network gone); the call's outcome is unknown.
        case connectionLost
        /// The server answered with an error (see `sqlState`).
        case server
        /// A parameter cannot be sent as text (it holds a NUL byte).
        case invalidParameter
        /// A value in a result was not of the type the caller read it as.
        case decoding
    }

    public let kind: Kind
    public let sqlState: SQLState?
    public let constraint: String?
    public let serverMessage: String

    public init(kind: Kind, sqlState: SQLState? = nil, constraint: String? = nil, serverMessage: String = "") {
        self.kind = kind
        self.sqlState = sqlState
        self.constraint = constraint
        self.serverMessage = serverMessage
    }

    public var description: String {
        var text = "PostgreSQL \(kind)"
        if let sqlState { text += " SQLSTATE \(sqlState.code)" }
        if let constraint { text += " constraint \(constraint)" }
        return text
    }

    /// True when the database could not be reached or the connection broke: the service is unavailable, not wrong.
    public var isUnavailable: Bool {
        switch kind {
        case .connectionFailed, .connectionLost: return true
        case .server:
            // Class 08 (connection exception), 57P01..57P03 (admin shutdown, crash shutdown, cannot connect now),
            // 25006 (a write on a server that has become a standby after a failover: the next connection, with
            // `target_session_attrs=read-write`, finds the new primary).
            guard let code = sqlState?.code else { return false }
            return code.hasPrefix("08") || code == "57P01" || code == "57P02" || code == "57P03" || sqlState == .readOnlyTransaction
        case .invalidParameter, .decoding: return false
        }
    }
}

/// A five-character SQLSTATE code (PostgreSQL manual, appendix A).
public struct SQLState: Hashable, Sendable, CustomStringConvertible {
    public let code: String
    public init(_ code: String) { self.code = code }
    public var description: String { code }

    public static let uniqueViolation = SQLState("23505")
    public static let notNullViolation = SQLState("23502")
    public static let checkViolation = SQLState("23514")
    public static let queryCanceled = SQLState("57014")
    public static let deadlockDetected = SQLState("40P01")
    public static let serializationFailure = SQLState("40001")
    public static let readOnlyTransaction = SQLState("25006")
}
