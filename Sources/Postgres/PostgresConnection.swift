import CInterop
internal import CLibPQ
internal import Glibc

/// How to open a connection: the `DATABASE_URL` (URI or keyword form) plus settings this service pins.
public struct ConnectionOptions: Sendable {
    public var url: String
    public var connectTimeoutSeconds: Int
    public var statementTimeoutMilliseconds: Int
    public var applicationName: String
    /// Whether TimeZone, DateStyle and statement_timeout go in the startup packet's `options`. PgBouncer refuses
    /// that parameter: behind it they come from the role (`ALTER ROLE ... SET`), and a connection whose TimeZone or
    /// DateStyle differs from the pinned values, or whose statement_timeout is 0 (no limit), is refused;
    /// `statementTimeoutMilliseconds` then does not apply.
    public var startupOptions: Bool
    /// Whether statements are prepared once per connection under a name. Off, each is sent with its text (an
    /// unnamed statement), as a PgBouncer before 1.21 in transaction mode needs.
    public var preparedStatements: Bool

    public init(url: String, connectTimeoutSeconds: Int = 3, statementTimeoutMilliseconds: Int = 5000, applicationName: String = "user-service",
                startupOptions: Bool = true, preparedStatements: Bool = true) {
        self.url = url
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.applicationName = applicationName
        self.startupOptions = startupOptions
        self.preparedStatements = preparedStatements
    }
}

/// A statement prepared once per connection under `name`, on first use.
public struct PreparedStatement: Sendable, Hashable {
    public let name: String
    public let sql: String
    public init(_ name: String, _ sql: String) {
        self.name = name
        self.sql = sql
    }
}

/// Owns one `PGconn`. One connection per worker process, one request at a time.
public final class PostgresConnection {
    let handle: OpaquePointer
    private var prepared: Set<String> = []
    private let preparesStatements: Bool
    /// Set when the server sent a FATAL (or PANIC) message while no statement ran: its goodbye before it closes
    /// the connection (an administrator's command, a shutdown, an idle timeout).
    private var closedByServer = false
    /// The server process a notification of this connection's own transactions names: what `pg_backend_pid()`
    /// answered when the connection started listening (`listen`). Behind PgBouncer `PQbackendPID` is the pooler's
    /// made-up key, never the server's process.
    var serverProcessID: Int32

    public init(_ options: ConnectionOptions) throws(PostgresError) {
        // TimeZone and DateStyle are pinned so timestamps arrive in one form; statement_timeout bounds every query.
        // The URL's own `options` come first: the pinned settings follow and win, the rest (a search_path) stays.
        var keywords = ["dbname", "connect_timeout", "application_name", "client_encoding"]
        var values = [options.url, String(options.connectTimeoutSeconds), options.applicationName, "UTF8"]
        if options.startupOptions {
            let pinned = "-c TimeZone=UTC -c DateStyle=ISO,YMD -c statement_timeout=\(options.statementTimeoutMilliseconds)"
            keywords.append("options")
            values.append(Self.optionsParameter(of: options.url).map { $0 + " " + pinned } ?? pinned)
        }
        // > keywords and values: arrays terminated with a NULL entry.
        // > expand_dbname: the first dbname keyword is checked to see if it is a connection string
        let connection = withCStrings(keywords + [nil]) { keys in
            withCStrings(values + [nil]) { vals in PQconnectdbParams(keys, vals, 1) }
        }
        guard let connection else { throw PostgresError(kind: .connectionFailed, serverMessage: "out of memory") }
        guard PQstatus(connection) == CONNECTION_OK else {
            // > Note that when PQconnectdb returns a non-null pointer, you must call PQfinish when you are
            // > finished with it, in order to dispose of the structure — even if the connection attempt fails.
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(kind: .connectionFailed, serverMessage: message)
        }
        handle = connection
        serverProcessID = PQbackendPID(connection)
        preparesStatements = options.preparedStatements
        // Checked with startup options too: a session-mode PgBouncer with `ignore_startup_parameters = options` accepts
        // the connection and drops them (then the role's settings must hold).
        // (Initialised whole: `deinit` closes it.)
        if let unpinned = try unpinnedSetting(boundedStatements: options.statementTimeoutMilliseconds > 0) {
            throw PostgresError(kind: .connectionFailed, serverMessage: "the server's \(unpinned) (without startup options, or "
                + "with a pooler that drops them, set the role's: ALTER ROLE ... SET TimeZone = 'UTC', "
                + "SET DateStyle = 'ISO, YMD', SET statement_timeout = ...)")
        }
        // Notices (e.g. "relation already exists, skipping") would otherwise go to stderr unformatted. The receiver
        // notes the one that matters: an error the server sends between statements, which libpq hands to it.
        // > If an error message arrives while the connection is idle, [...] it is processed as a notice.
        // (libpq's fe-protocol3.c: "An ERROR is very possibly the backend telling us why it is about to close
        // the connection.") The receiver runs only inside this connection's own libpq calls, so the unretained
        // reference is alive whenever it runs.
        PQsetNoticeReceiver(handle, { argument, result in
            guard let argument, let result,
                  let severity = PQresultErrorField(result, CLibPQ_DIAG_SEVERITY_NONLOCALIZED) else { return }
            let text = String(cString: severity)
            if text == "FATAL" || text == "PANIC" {
                Unmanaged<PostgresConnection>.fromOpaque(argument).takeUnretainedValue().closedByServer = true
            }
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit { PQfinish(handle) }

    /// The `options` a connection string names, if any. The keyword given after the string in
    /// `PQconnectdbParams` would replace it, not add to it.
    private static func optionsParameter(of url: String) -> String? {
        // > PQconninfoParse: Returns parsed connection options from the provided connection string. [...]
        // > The result must be freed using PQconninfoFree.
        guard let parsed = PQconninfoParse(url, nil) else { return nil }
        defer { PQconninfoFree(parsed) }
        var option = parsed
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "options", let value = option.pointee.val {
                let text = String(cString: value)
                return text.isEmpty ? nil : text
            }
            option += 1
        }
        return nil
    }

    /// The pinned setting the server has otherwise, if any. TimeZone and DateStyle the server reports at startup
    /// (and PgBouncer passes them on): > PQparameterStatus: Looks up a current parameter setting of the server.
    /// statement_timeout it does not report: one query per connection asks, and only 0 (no limit) is refused —
    /// the limit is then the role's, not DB_STATEMENT_TIMEOUT_MS.
    /// `boundedStatements`: the caller asked for a statement timeout (every caller but `migrate`, whose index builds
    /// may run long), so an unbounded one is refused.
    private func unpinnedSetting(boundedStatements: Bool) throws(PostgresError) -> String? {
        let timeZone = PQparameterStatus(handle, "TimeZone").map { String(cString: $0) } ?? ""
        let dateStyle = PQparameterStatus(handle, "DateStyle").map { String(cString: $0) } ?? ""
        if !["UTC", "Etc/UTC"].contains(timeZone) { return "TimeZone is \(timeZone.isEmpty ? "unknown" : timeZone), not UTC" }
        if !dateStyle.hasPrefix("ISO") { return "DateStyle is \(dateStyle.isEmpty ? "unknown" : dateStyle), not ISO" }
        if boundedStatements, try query("SHOW statement_timeout").first?.string(0) == "0" { return "statement_timeout is 0 (no limit)" }
        return nil
    }

    /// The status libpq last saw, without reading from the socket: after a server restart it stays OK until a
    /// call fails.
    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Whether the connection can take the next statement, found without waiting and without a round trip: one
    /// zero-timeout `poll`, and only while the socket is readable a `PQconsumeInput` (the socket is non-blocking;
    /// `readInput`).
    /// Between requests a worker's connection expects nothing from the server but notifications (it LISTENs for
    /// the session cache): those are read into libpq's list, where `takeNotifications` finds them. What else an idle
    /// connection receives is the server saying goodbye — FATAL 57P01 admin_shutdown when it stops or restarts or
    /// `pg_terminate_backend` ends the session, 57P05 when an idle session times out — then end of file. Either
    /// one makes it dead: `PQconsumeInput` fails on end of file (the status turns bad), and the goodbye, which
    /// can arrive before the close does, reaches the notice receiver.
    public var isAlive: Bool {
        guard PQstatus(handle) == CONNECTION_OK, !closedByServer else { return false }
        return readInput()
    }

    /// At most this many reads per `readInput`: one `PQconsumeInput` takes what fits libpq's buffer (16 KiB at
    /// first, about 270 notifications), so a revocation behind a backlog needs several; bounded, so a flood of
    /// notifications cannot hold a request (about 1 MiB).
    static let readsPerCheck = 64

    /// Reads what the server has sent while the socket stays readable, without waiting, and parses it: false when
    /// the connection turned out dead. Each read is preceded by a zero-timeout `poll`; nothing readable costs one
    /// `poll` and no read.
    func readInput() -> Bool {
        var socket = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        for _ in 0..<Self.readsPerCheck {
            socket.revents = 0
            guard poll(&socket, 1, 0) != 0 else { return true }
            guard consumeInput() else { return false }
        }
        return true
    }

    /// One non-blocking read of what the server has sent, parsed: false when the connection turned out dead.
    private func consumeInput() -> Bool {
        // > PQconsumeInput normally returns 1 indicating "no error", but returns 0 if there was some kind of
        // > trouble (in which case PQerrorMessage can be consulted). Note that the result does not say whether
        // > any input data was actually collected. After calling PQconsumeInput, the application can check
        // > PQisBusy and/or PQnotifies to see if their state has changed.
        // PQisBusy parses what was read: notifications go to PQnotifies' list, an error sent while idle to the
        // notice receiver.
        guard PQconsumeInput(handle) == 1 else { return false }
        _ = PQisBusy(handle)
        return PQstatus(handle) == CONNECTION_OK && !closedByServer
    }

    /// The server's version as an integer, e.g. 150018 for 15.18.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// Runs one parameterised statement. Parameters are sent apart from the SQL text, in text format.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) throws(PostgresError) -> PostgresResult {
        let texts = try encode(parameters)
        let result = withCStrings(texts) { values in
            PQexecParams(handle, sql, Int32(texts.count), nil, values, nil, nil, 0)
        }
        return try check(result)
    }

    /// Runs a statement prepared on this connection (preparing it first if this connection has not).
    @discardableResult
    public func query(_ statement: PreparedStatement, _ parameters: [(any PostgresBindable)?] = []) throws(PostgresError) -> PostgresResult {
        guard preparesStatements else { return try query(statement.sql, parameters) }
        if !prepared.contains(statement.name) {
            _ = try check(PQprepare(handle, statement.name, statement.sql, 0, nil))
            prepared.insert(statement.name)
        }
        let texts = try encode(parameters)
        let result = withCStrings(texts) { values in
            PQexecPrepared(handle, statement.name, Int32(texts.count), values, nil, nil, 0)
        }
        return try check(result)
    }

    /// Runs SQL that may hold several statements and no parameters (migration files).
    public func executeScript(_ sql: String) throws(PostgresError) {
        _ = try check(PQexec(handle, sql))
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    @discardableResult
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try query("BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            if isHealthy { _ = try? query("ROLLBACK") }
            throw error
        }
        try query("COMMIT")
        return value
    }

    private func encode(_ parameters: [(any PostgresBindable)?]) throws(PostgresError) -> [String?] {
        var texts: [String?] = []
        texts.reserveCapacity(parameters.count)
        for parameter in parameters {
            let text = parameter?.postgresText
            // A NUL would end the C string early and silently truncate the value.
            if let text, text.utf8.contains(0) { throw PostgresError(kind: .invalidParameter) }
            texts.append(text)
        }
        return texts
    }

    func check(_ result: OpaquePointer?) throws(PostgresError) -> PostgresResult {
        guard let result else {
            throw PostgresError(kind: isHealthy ? .server : .connectionLost, serverMessage: String(cString: PQerrorMessage(handle)))
        }
        let owned = PostgresResult(handle: result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return owned
        default:
            let sqlState = field(result, CLibPQ_DIAG_SQLSTATE)
            // After a server restart the failure carries no SQLSTATE and the status turns bad.
            if sqlState == nil || !isHealthy {
                throw PostgresError(kind: .connectionLost, serverMessage: String(cString: PQerrorMessage(handle)))
            }
            throw PostgresError(
                kind: .server, sqlState: sqlState.map(SQLState.init),
                constraint: field(result, CLibPQ_DIAG_CONSTRAINT_NAME),
                serverMessage: field(result, CLibPQ_DIAG_MESSAGE_PRIMARY) ?? "")
        }
    }

    private func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        guard let pointer = PQresultErrorField(result, code) else { return nil }
        return String(cString: pointer)
    }
}

@available(*, unavailable)
extension PostgresConnection: Sendable {}
