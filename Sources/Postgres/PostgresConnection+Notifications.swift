internal import CLibPQ

/// A notification read from a connection that LISTENs.
public struct PostgresNotification: Equatable, Sendable {
    public let channel: String
    public let payload: String
    /// Sent by a transaction of this same connection (its server process), not by another session.
    public let isOwn: Bool

    public init(channel: String, payload: String, isOwn: Bool) {
        self.channel = channel
        self.payload = payload
        self.isOwn = isOwn
    }
}

/// LISTEN/NOTIFY: a connection that listens is watched with `poll` on `socket`, then read with
/// `receiveNotifications`. Notifications that arrive while a statement runs are kept by libpq and returned by the
/// next `receiveNotifications` or `takeNotifications`.
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
        var channels: [String] = []
        try receiveNotifications { channels.append($0.channel) }
        return channels
    }

    /// Reads what the server has sent, without waiting, and hands `body` every notification received so far.
    /// Throws `connectionLost` when the server has closed the connection.
    public func receiveNotifications(_ body: (PostgresNotification) -> Void) throws(PostgresError) {
        guard readInput() else {
            throw PostgresError(kind: .connectionLost, serverMessage: String(cString: PQerrorMessage(handle)))
        }
        takeNotifications(body)
    }

    /// Hands `body` the notifications libpq has already read — during statements, or the last check of the
    /// connection — without reading the socket (no system call).
    public func takeNotifications(_ body: (PostgresNotification) -> Void) {
        let ownProcess = PQbackendPID(handle)
        // > PQnotifies [...] returns the next notification from a list of unhandled notification messages
        // > received from the server. It returns a null pointer if there are no pending notifications. [...]
        // > be sure to free it with PQfreemem.
        while let notification = PQnotifies(handle) {
            body(PostgresNotification(channel: String(cString: notification.pointee.relname),
                                      payload: String(cString: notification.pointee.extra),
                                      isOwn: notification.pointee.be_pid == ownProcess))
            PQfreemem(notification)
        }
    }
}
