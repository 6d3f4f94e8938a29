/// The worker's database: one connection, opened on first use and opened again after it breaks.
///
/// Prepared statements are per connection, so a new connection prepares them again on first use. With
/// `channels`, every connection LISTENs on them before its first statement, and each one it opens gets a new
/// number (`connectionNumber`), so a reader of notifications can tell that some may have been missed in between.
public final class Database {
    private let options: ConnectionOptions
    private let channels: [String]
    private var connection: PostgresConnection?
    /// Notifications read on a connection that was then dropped, not yet handed to a reader: those of the worker's
    /// own transactions must still reach it (`takeNotifications`).
    private var pending: [PostgresNotification] = []
    /// The number of the connection opened last (0: none yet). Each new connection listens before it is numbered.
    public private(set) var connectionNumber: UInt64 = 0

    public init(_ options: ConnectionOptions, listening channels: [String] = []) {
        self.options = options
        self.channels = channels
    }

    /// Checks the connection as each use does (`isAlive`: a zero-timeout poll, and a non-blocking read only when
    /// something arrived) and hands `body` every notification received on it. Returns the number of the open,
    /// listening connection — nil when there is none: not opened yet, or found closed (then dropped; the next use
    /// opens and numbers a new one). Nothing is sent to the server.
    public func receiveNotifications(_ body: (PostgresNotification) -> Void) -> UInt64? {
        if let connection, !connection.isAlive { drop() }
        takeNotifications(body)
        return connection == nil ? nil : connectionNumber
    }

    /// Hands `body` the notifications already read (by the statements just run, on the open connection or on one
    /// dropped since), without a system call.
    public func takeNotifications(_ body: (PostgresNotification) -> Void) {
        if !pending.isEmpty {
            for notification in pending { body(notification) }
            pending.removeAll()
        }
        connection?.takeNotifications(body)
    }

    /// Forgets the connection, keeping what it had read: a transaction's own notifications arrive with its COMMIT,
    /// and a later statement of the same request may find the connection gone.
    private func drop() {
        connection?.takeNotifications { pending.append($0) }
        connection = nil
    }

    /// Runs `body` on the connection, reopened first if the server has closed it. When the connection breaks
    /// during `body`, it is dropped; when `retry` says the work is safe to repeat (it wrote nothing), it runs
    /// once more on a fresh connection.
    @discardableResult
    public func withConnection<T>(retry: Bool = false, _ body: (PostgresConnection) throws -> T) throws -> T {
        do {
            return try attempt(body)
        } catch let error as PostgresError where retry && error.kind == .connectionLost {
            return try attempt(body)
        }
    }

    /// One try; a connection found broken or unreachable is dropped, so the next call opens a fresh one.
    private func attempt<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        do {
            return try body(try open())
        } catch let error as PostgresError where error.isUnavailable {
            drop()
            throw error
        }
    }

    /// Runs `body` in one transaction. A broken connection is never retried here: the outcome is unknown. A
    /// transaction PostgreSQL refused whole — a deadlock's victim, a serialization failure, a write on a server
    /// that became a standby (its connection dropped, so the retry reconnects to the new primary) — changed
    /// nothing and is run once more.
    @discardableResult
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        do {
            return try withConnection { try $0.transaction(body) }
        } catch let error as PostgresError where Self.refusedWhole.contains(error.sqlState) {
            return try withConnection { try $0.transaction(body) }
        }
    }

    private static let refusedWhole: [SQLState?] = [.deadlockDetected, .serializationFailure, .readOnlyTransaction]

    /// The connection, checked before each use with one non-blocking read (`isAlive`, no round trip): one the
    /// server has closed since (a restart, a failover, `pg_terminate_backend`) is replaced before anything is
    /// sent on it, so the statement that would have failed on it runs on the fresh connection instead.
    private func open() throws(PostgresError) -> PostgresConnection {
        if let connection, connection.isAlive { return connection }
        drop()
        let fresh = try PostgresConnection(options)
        if !channels.isEmpty { try fresh.listen(channels) }
        connection = fresh
        connectionNumber += 1
        return fresh
    }
}

@available(*, unavailable)
extension Database: Sendable {}
