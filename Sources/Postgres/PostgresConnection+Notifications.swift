internal import CLibPQ
internal import Glibc

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
        try listen([channel])
    }

    /// Starts listening on `channels` (plain lower-case identifiers: letters, digits, `_`) and learns the server
    /// process that serves this connection, in one round trip: the notifications of this connection's own
    /// transactions name it (`isOwn`), and behind PgBouncer (session mode) `PQbackendPID` does not.
    public func listen(_ channels: [String]) throws(PostgresError) {
        for channel in channels {
            guard !channel.isEmpty, channel.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) else {
                throw PostgresError(kind: .invalidParameter)
            }
        }
        // The statements in one simple query: its result is the last one's.
        let result = try check(PQexec(handle, channels.map { "LISTEN \($0);" }.joined() + "SELECT pg_backend_pid()"))
        if let pid = try result.first?.int(0) { serverProcessID = Int32(pid) }
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
        let ownProcess = serverProcessID
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

    /// For a connection that waits long on its socket (a listener): over TCP, keepalive probes find a peer that
    /// vanished while the connection idles (after 10 s idle, 3 probes 5 s apart), and sent data unacknowledged for
    /// 30 s fails the connection (`TCP_USER_TIMEOUT`) instead of the kernel's retransmissions for about 15 minutes.
    /// What libpq's `keepalives*` and `tcp_user_timeout` parameters set, here without changing the caller's URL.
    /// A unix socket connection is left as it is.
    public func detectDeadPeer() {
        let fd = PQsocket(handle)
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let family = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 ? Int32($0.pointee.sa_family) : AF_UNIX }
        }
        guard family == AF_INET || family == AF_INET6 else { return }
        for (level, option, value) in [(SOL_SOCKET, SO_KEEPALIVE, 1), (Int32(IPPROTO_TCP), TCP_KEEPIDLE, 10),
                                       (Int32(IPPROTO_TCP), TCP_KEEPINTVL, 5), (Int32(IPPROTO_TCP), TCP_KEEPCNT, 3),
                                       (Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, 30_000)] {
            var value = Int32(value)
            _ = setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }
}
