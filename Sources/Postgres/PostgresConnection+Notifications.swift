internal import CLibPQ

/// LISTEN/NOTIFY: a connection that listens is watched with `poll` on `socket`, then read with
/// `receiveNotifications`. Notifications that arrive while a statement runs are kept by libpq and returned by the
/// next `receiveNotifications`.
extension PostgresConnection {
    /// The connection's socket, to wait on with `poll` (readable: a notification, or the server going away).
    public var socket: Int32 { PQsocket(handle) }

    /// Starts listening on `channel`, a plain lower-case identifier (letters, digits, `_`).
    public func listen(_ channel: String) throws(PostgresError) {
        guard !channel.isEmpty, channel.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) else {
            throw PostgresError(kind: .invalidParameter)
        }
        try query("LISTEN \(channel)")
    }

    /// The channels notified since the last call, without waiting. Throws `connectionLost` when the server has
    /// closed the connection (a restart, `pg_terminate_backend`).
    public func receiveNotifications() throws(PostgresError) -> [String] {
        // > PQconsumeInput normally returns 1 indicating "no error", but returns 0 if there was some kind of
        // > trouble (in which case PQerrorMessage can be consulted).
        guard PQconsumeInput(handle) == 1, isHealthy else {
            throw PostgresError(kind: .connectionLost, serverMessage: String(cString: PQerrorMessage(handle)))
        }
        var channels: [String] = []
        // > PQnotifies [...] returns the next notification from a list of unhandled notification messages
        // > received from the server. It returns a null pointer if there are no pending notifications. [...]
        // > be sure to free it with PQfreemem.
        while let notification = PQnotifies(handle) {
            channels.append(String(cString: notification.pointee.relname))
            PQfreemem(notification)
        }
        return channels
    }
}
