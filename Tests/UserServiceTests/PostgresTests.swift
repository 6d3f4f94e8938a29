import HTTP
import Postgres
import Testing
@testable import UserService

#if canImport(Glibc)
import Glibc
#endif

@Suite struct PostgresTests {
    @Test func typesRoundTripIncludingNull() throws {
        let db = try TestSchema()
        let row = try db.connection.query(
            "SELECT $1::text, $2::int8, $3::bool, $4::timestamptz, $5::uuid, $6::jsonb, $7::text, $8::float8",
            ["héllo ✓ 😀", Int64.max, true, "2026-11-28T18:44:44.123456Z", "6f1c1a5e-3b9e-4f57-9a53-0a1f5b0c2d3e",
             #"{"k": [1, null]}"#, nil, 1.5]).first!
        #expect(row.string(0) == "héllo ✓ 😀")
        #expect(try row.int(1) == Int.max)
        #expect(try row.bool(2) == true)
        #expect(try row.timestamp(3)?.iso8601 == "2026-11-28T18:44:44.123456Z")
        #expect(row.string(4) == "6f1c1a5e-3b9e-4f57-9a53-0a1f5b0c2d3e")
        #expect(try JSONParser.parse(Array(row.string(5)!.utf8)) == .object([("k", .array([.integer(1), .null]))]))
        #expect(row.isNull(6) && row.string(6) == nil)
        #expect(try row.double(7) == 1.5)
        // An empty string is not NULL.
        #expect(try db.connection.query("SELECT ''::text").first?.string(0) == "")
    }

    @Test func timestampsParseInEveryOffsetForm() throws {
        let db = try TestSchema()
        let row = try db.connection.query("SELECT '1969-12-31 23:59:59.5+00'::timestamptz, '2000-02-29 12:00:00+05:30'::timestamptz, now()").first!
        #expect(try row.timestamp(0)?.microsecondsSinceEpoch == -500_000)
        #expect(try row.timestamp(0)?.iso8601 == "1969-12-31T23:59:59.500000Z")
        #expect(try row.timestamp(1)?.iso8601 == "2000-02-29T06:30:00.000000Z")
        let now = try row.timestamp(2)!.secondsSinceEpoch
        #expect(abs(now - Clock.unixSeconds()) < 5)
        #expect(PostgresTimestamp(postgresText: "not a time") == nil)
    }

    @Test func transactionRollsBackOnThrow() throws {
        let db = try TestSchema()
        try db.connection.query("CREATE TABLE items (name text PRIMARY KEY)")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.connection.transaction { connection in
                try connection.query("INSERT INTO items VALUES ($1)", ["first"])
                throw Boom()
            }
        }
        #expect(try db.connection.query("SELECT count(*) FROM items").first?.int(0) == 0)
        try db.connection.transaction { try $0.query("INSERT INTO items VALUES ($1)", ["kept"]) }
        #expect(try db.connection.query("SELECT count(*) FROM items").first?.int(0) == 1)
        // A failed statement inside the transaction rolls back what came before it.
        #expect(throws: PostgresError.self) {
            try db.connection.transaction { connection in
                try connection.query("INSERT INTO items VALUES ($1)", ["second"])
                try connection.query("INSERT INTO items VALUES ($1)", ["kept"])
            }
        }
        #expect(try db.connection.query("SELECT name FROM items").rows.map { $0.string(0) } == ["kept"])
    }

    @Test func errorsCarrySQLStateAndConstraintButNoValues() throws {
        let db = try TestSchema()
        try db.connection.executeScript("""
            CREATE TABLE users (email text NOT NULL, age int CONSTRAINT users_age_check CHECK (age > 0));
            CREATE UNIQUE INDEX users_email_key ON users (lower(email));
            """)
        try db.connection.query("INSERT INTO users (email, age) VALUES ($1, 1)", ["secret@example.com"])
        do {
            try db.connection.query("INSERT INTO users (email, age) VALUES ($1, 1)", ["SECRET@example.com"])
            Issue.record("no error")
        } catch {
            #expect(error.sqlState == .uniqueViolation)
            #expect(error.constraint == "users_email_key")
            #expect(!error.description.contains("secret"))
            #expect(ConstraintErrors.apiError(for: error) == APIError(.conflict, "Email already registered"))
        }
        do {
            try db.connection.query("INSERT INTO users (email, age) VALUES ($1, -1)", ["b@example.com"])
            Issue.record("no error")
        } catch {
            #expect(error.sqlState == .checkViolation)
            #expect(ConstraintErrors.apiError(for: error) == APIError(.unprocessableEntity, "Invalid value"))
        }
        do {
            try db.connection.query("INSERT INTO users (email) VALUES (NULL)")
            Issue.record("no error")
        } catch {
            #expect(error.sqlState == .notNullViolation)
            #expect(ConstraintErrors.apiError(for: error)?.status == .unprocessableEntity)
        }
        do {
            try db.connection.query("SELECT nonsense FROM nowhere")
            Issue.record("no error")
        } catch {
            #expect(error.kind == .server)
            #expect(ConstraintErrors.apiError(for: error) == nil)  // the service's fault: a 500
        }
    }

    @Test func parametersAreNeverSplicedAndNULIsRefused() throws {
        let db = try TestSchema()
        let hostile = "x'); DROP TABLE users; --"
        #expect(try db.connection.query("SELECT $1::text", [hostile]).first?.string(0) == hostile)
        #expect(throws: PostgresError.self) { try db.connection.query("SELECT $1::text", ["a\u{0}b"]) }
    }

    @Test func preparedStatementsAndFailedConnections() throws {
        let db = try TestSchema()
        let statement = PreparedStatement("add_one", "SELECT $1::int + 1")
        #expect(try db.connection.query(statement, [1]).first?.int(0) == 2)
        #expect(try db.connection.query(statement, [41]).first?.int(0) == 42)
        do {
            _ = try PostgresConnection(ConnectionOptions(url: "postgresql://postgres@127.0.0.1:1/none", connectTimeoutSeconds: 1))
            Issue.record("connected")
        } catch {
            #expect(error.kind == .connectionFailed)
            #expect(error.isUnavailable)
        }
    }

    @Test func databaseReconnectsBeforeAWriteWhenTheServerClosedTheConnection() throws {
        let db = try TestSchema()
        try db.connection.query("CREATE TABLE items (name text PRIMARY KEY)")
        let database = Database(ConnectionOptions(url: TestSchema.baseURL))
        let pid = try database.withConnection { try $0.query("SELECT pg_backend_pid()").first!.int(0)! }
        // The server ends the idle connection (as at a restart) and has closed it when this returns.
        #expect(try db.connection.query("SELECT pg_terminate_backend($1, 10000)", [pid]).first?.bool(0) == true)
        // A write, not safe to repeat, still succeeds: the dead connection is seen before anything is sent.
        let again = try database.withConnection { connection in
            try connection.query("INSERT INTO \(db.name).items VALUES ($1)", ["after restart"])
            return try connection.query("SELECT pg_backend_pid()").first!.int(0)!
        }
        #expect(again != pid)
        #expect(try db.connection.query("SELECT count(*) FROM items").first?.int(0) == 1)
    }

    @Test func aWriteRefusedAsOnAStandbyReconnectsAndRunsOnceMore() throws {
        let db = try TestSchema()
        try db.connection.query("CREATE TABLE items (name text PRIMARY KEY)")
        let database = Database(ConnectionOptions(url: TestSchema.baseURL))
        // The connection's server refuses writes, as a primary turned standby does after a failover (25006).
        let pid = try database.withConnection { connection in
            try connection.query("SET default_transaction_read_only = on")
            return try connection.query("SELECT pg_backend_pid()").first!.int(0)!
        }
        let again = try database.transaction { connection in
            try connection.query("INSERT INTO \(db.name).items VALUES ($1)", ["after failover"])
            return try connection.query("SELECT pg_backend_pid()").first!.int(0)!
        }
        #expect(again != pid)
        #expect(try db.connection.query("SELECT count(*) FROM items").first?.int(0) == 1)
    }

    @Test func aConnectionLostDuringAStatementIsReportedAndReplaced() throws {
        let database = Database(ConnectionOptions(url: TestSchema.baseURL))
        // The statement reached the server and the connection broke under it: its outcome is unknown, the
        // caller sees the loss, and the next call has a fresh connection.
        do {
            try database.withConnection { try $0.query("SELECT pg_terminate_backend(pg_backend_pid())") }
            Issue.record("no error")
        } catch let error as PostgresError {
            #expect(error.isUnavailable)
        }
        #expect(try database.withConnection { try $0.query("SELECT 1").first?.int(0) } == 1)
    }
}

@Suite struct ConnectionStringTests {
    /// DATABASE_URL may be a URI or libpq's keyword form.
    @Test func keywordFormConnects() throws {
        let uri = TestSchema.baseURL  // postgresql://user@host:port/db, host a percent-encoded socket folder
        let rest = uri.split(separator: "://")[1]
        let (credentials, location) = (rest.split(separator: "@")[0], rest.split(separator: "@")[1])
        let hostPort = location.split(separator: "/")[0].split(separator: ":")
        let host = hostPort[0].replacing("%2F", with: "/")
        let keywords = "host=\(host) port=\(hostPort[1]) user=\(credentials) dbname=\(location.split(separator: "/")[1])"
        let connection = try PostgresConnection(ConnectionOptions(url: keywords))
        #expect(try connection.query("SELECT current_user").first?.string(0) == String(credentials))
    }

    /// A `DATABASE_URL` with `options` keeps them beside the settings the service pins.
    @Test func databaseURLOptionsAreKept() throws {
        let base = TestSchema.baseURL
        let url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3Dsomewhere"
        let connection = try PostgresConnection(ConnectionOptions(url: url))
        #expect(try connection.query("SELECT current_setting('search_path'), current_setting('TimeZone')").first?.string(0) == "somewhere")
        #expect(try connection.query("SELECT current_setting('TimeZone')").first?.string(0) == "UTC")
    }

    /// LISTEN/NOTIFY as the mailer uses it: a notification makes the socket readable, is read once, and one that
    /// libpq read during a statement is still returned; a closed connection is reported, not waited on forever.
    @Test func notificationsWakeTheSocketAndAClosedConnectionIsReported() throws {
        let db = try TestSchema()
        let listener = try PostgresConnection(ConnectionOptions(url: TestSchema.baseURL))
        try listener.listen("mail_test")
        #expect(throws: PostgresError.self) { try listener.listen("no; DROP TABLE x") }
        #expect(try listener.receiveNotifications().isEmpty)
        try db.connection.query("SELECT pg_notify('mail_test', '')")
        var socket = pollfd(fd: listener.socket, events: Int16(POLLIN), revents: 0)
        #expect(poll(&socket, 1, 10_000) == 1)
        #expect(try listener.receiveNotifications() == ["mail_test"])
        #expect(try listener.receiveNotifications().isEmpty)
        try db.connection.query("SELECT pg_notify('mail_test', '')")
        // Wait for it through a statement of the listener's own: libpq keeps it for the next read.
        let deadline = Clock.nanoseconds() + 10_000_000_000
        var received: [String] = []
        while received.isEmpty && Clock.nanoseconds() < deadline {
            try listener.query("SELECT 1")
            received = try listener.receiveNotifications()
        }
        #expect(received == ["mail_test"])
        let pid = try #require(try listener.query("SELECT pg_backend_pid()").first?.int(0))
        try db.connection.query("SELECT pg_terminate_backend($1)", [pid])
        #expect(poll(&socket, 1, 10_000) == 1)
        let lost = Clock.nanoseconds() + 10_000_000_000
        var error: PostgresError?
        while error == nil && Clock.nanoseconds() < lost {
            do { _ = try listener.receiveNotifications() } catch let failure { error = failure }
        }
        #expect(error?.kind == .connectionLost)
    }

    /// LISTEN as the session cache uses it: a `Database` that listens numbers its connections; its connection check
    /// (one poll, a non-blocking read only when something arrived) hands over what arrived — payloads, and whether
    /// this connection's own transaction sent it — and keeps a connection with notifications pending, which is not
    /// the server's goodbye; one the server ended is reported, and the next one listens again.
    @Test func aListeningDatabaseHandsOverNotificationsFromItsConnectionCheck() throws {
        let db = try TestSchema()
        let database = Database(ConnectionOptions(url: TestSchema.baseURL), listening: ["cache_test"])
        var received: [PostgresNotification] = []
        #expect(database.receiveNotifications { received.append($0) } == nil)  // nothing opened yet
        let pid = try database.withConnection { try #require(try $0.query("SELECT pg_backend_pid()").first?.int(0)) }
        #expect(database.connectionNumber == 1)

        func receive(_ count: Int) throws {
            let deadline = Clock.nanoseconds() + 10_000_000_000
            while received.count < count && Clock.nanoseconds() < deadline {
                #expect(database.receiveNotifications { received.append($0) } == 1)
            }
        }
        try db.connection.query("SELECT pg_notify('cache_test', 'a'), pg_notify('cache_test', 'b')")
        try receive(2)
        #expect(received == [PostgresNotification(channel: "cache_test", payload: "a", isOwn: false),
                             PostgresNotification(channel: "cache_test", payload: "b", isOwn: false)])
        // Its own transaction's notification is in libpq's hands when the statement returns: taken without a read.
        received = []
        try database.withConnection { try $0.query("SELECT pg_notify('cache_test', 'mine')") }
        database.takeNotifications { received.append($0) }
        #expect(received == [PostgresNotification(channel: "cache_test", payload: "mine", isOwn: true)])
        #expect(try database.withConnection { try $0.query("SELECT pg_backend_pid()").first?.int(0) } == pid)
        #expect(database.connectionNumber == 1)

        // Ended by the server (and gone when this returns): no connection, then a new one that listens.
        #expect(try db.connection.query("SELECT pg_terminate_backend($1, 10000)", [pid]).first?.bool(0) == true)
        #expect(database.receiveNotifications { received.append($0) } == nil)
        try database.withConnection { try $0.query("SELECT 1") }
        #expect(database.connectionNumber == 2)
        received = []
        try db.connection.query("SELECT pg_notify('cache_test', 'again')")
        let deadline = Clock.nanoseconds() + 10_000_000_000
        while received.isEmpty && Clock.nanoseconds() < deadline {
            #expect(database.receiveNotifications { received.append($0) } == 2)
        }
        #expect(received.map(\.payload) == ["again"])
    }

    /// A backlog of notifications larger than one read of libpq's buffer does not hide the one behind it: one check
    /// reads on while the socket is readable.
    @Test func oneCheckReadsPastABacklogOfNotifications() throws {
        let db = try TestSchema()
        let listener = try PostgresConnection(ConnectionOptions(url: TestSchema.baseURL))
        try listener.listen("backlog_test")
        let backlog = 3000
        try db.connection.transaction { connection in
            try connection.query("SELECT pg_notify('backlog_test', 'b' || g) FROM generate_series(1, $1::int) g", [backlog])
            try connection.query("SELECT pg_notify('backlog_test', 'revoked')")
        }
        // Wait until all of it is in the socket: each NotificationResponse is its type, length and pid (9 bytes),
        // then the channel and the payload, each ended by a NUL.
        let header = 9, channel = "backlog_test".utf8.count + 1
        var bytes = header + channel + "revoked".utf8.count + 1
        for n in 1...backlog { bytes += header + channel + "b\(n)".utf8.count + 1 }
        let deadline = Clock.nanoseconds() + 20_000_000_000
        var queued: Int32 = 0
        while Int(queued) < bytes && Clock.nanoseconds() < deadline {
            _ = ioctl(listener.socket, UInt(FIONREAD), &queued)
        }
        #expect(Int(queued) == bytes)
        var received: [String] = []
        try listener.receiveNotifications { received.append($0.payload) }
        #expect(received.count == backlog + 1)
        #expect(received.last == "revoked")
    }

    /// The notifications of a transaction, read with its COMMIT, outlive the connection: when the next statement
    /// finds it gone, the database keeps them for the reader.
    @Test func aDroppedConnectionsNotificationsAreStillHandedOver() throws {
        let db = try TestSchema()
        let database = Database(ConnectionOptions(url: TestSchema.baseURL), listening: ["dropped_test"])
        let pid = try database.transaction { connection in
            try connection.query("SELECT pg_notify('dropped_test', 'mine')")
            return try #require(try connection.query("SELECT pg_backend_pid()").first?.int(0))
        }
        #expect(try db.connection.query("SELECT pg_terminate_backend($1, 10000)", [pid]).first?.bool(0) == true)
        try database.withConnection { try $0.query("SELECT 1") }  // finds it gone, opens another
        #expect(database.connectionNumber == 2)
        var received: [PostgresNotification] = []
        database.takeNotifications { received.append($0) }
        #expect(received == [PostgresNotification(channel: "dropped_test", payload: "mine", isOwn: true)])
    }
}
