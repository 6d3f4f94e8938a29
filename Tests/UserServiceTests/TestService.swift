import HTTP
import Crypto
import Metrics
import Postgres
import Testing
@testable import UserService

#if canImport(Glibc)
import Glibc
#endif

/// An `Application` on a schema of its own with the shipped migrations applied, called with request values as
/// the FastCGI layer would call it: the handlers and their SQL against the real PostgreSQL, without nginx or
/// processes. bcrypt at cost 4; the throttles small and their blocks long, so that a test ends a block by moving
/// time in the database (`shift`), never by waiting.
final class TestService {
    static let password = "SecurePass123"
    /// The settings every test starts from; a test overrides what it is about.
    static let defaults = [
        "JWT_SECRET_KEY": String(repeating: "k", count: 32), "BCRYPT_ROUNDS": "4",
        "LOGIN_THROTTLE_LIMIT": "3", "LOGIN_THROTTLE_BASE_DELAY_SECONDS": "30", "LOGIN_THROTTLE_MAX_DELAY_SECONDS": "60",
        "CHANGE_PASSWORD_MAX_PER_HOUR": "3",
        // Far longer than a test takes, even on a loaded machine: the window is passed by moving `used_at` back.
        "REFRESH_REUSE_GRACE_SECONDS": "120",
        // A race test holds a row while a request waits on it: on a loaded machine that wait can pass the default
        // 5 s statement timeout before the test commits (a 503 instead of the answer under test).
        "DB_STATEMENT_TIMEOUT_MS": "60000",
        // Tests set rows up with their own SQL and expect the next request to see them: with the session cache on, a
        // read would see such a change only once its notification arrives. Off here; `SessionCacheTests` (and the
        // end-to-end tests, on the default) test the cache.
        "SESSION_CACHE_SECONDS": "0",
    ]

    let schema: TestSchema
    let configuration: Configuration
    let application: Application
    /// The test's own connection to the schema, for setting up and checking rows.
    var database: PostgresConnection { schema.connection }

    init(_ settings: [String: String] = [:]) throws {
        schema = try TestSchema()
        try Migrator(directory: shippedMigrationsPath()).migrate(schema.connection)
        var environment = Self.defaults.merging(settings) { $1 }
        environment["DATABASE_URL"] = try schema.roleURL()
        configuration = try Configuration.load(from: environment, defaultWorkers: 1)
        application = try Self.application(configuration)
    }

    /// An application of its own (its own connection) on `configuration`: what a second worker would be — of the
    /// same pool when given the pool's `counters` (shared memory: metrics and the session caches' generations).
    static func application(_ configuration: Configuration, counters: SharedCounters? = nil) throws -> Application {
        let layout = MetricsLayout(processCount: 1)
        return try Application(configuration: configuration, counters: try counters ?? SharedCounters.create(slotCount: layout.slotCount),
                               layout: layout)
    }

    // MARK: requests

    @discardableResult
    func request(_ method: String, _ path: String, json: JSONValue? = nil, token: String? = nil, query: String = "",
                 userAgent: String? = "AuthTests/1.0", remoteAddress: String? = "192.0.2.10") -> TestResponse {
        TestResponse(application.respond(to: Self.httpRequest(method, path, json: json, token: token, query: query,
                                                              userAgent: userAgent, remoteAddress: remoteAddress)).response)
    }

    static func httpRequest(_ method: String, _ path: String, json: JSONValue? = nil, token: String? = nil, query: String = "",
                            userAgent: String? = "AuthTests/1.0", remoteAddress: String? = "192.0.2.10") -> HTTPRequest {
        HTTPRequest(method: method, path: path, query: query, authorization: token.map { "Bearer \($0)" }, userAgent: userAgent,
                    contentType: json == nil ? nil : "application/json", body: json?.bytes ?? [], remoteAddress: remoteAddress)
    }

    // MARK: accounts and tokens through the API

    struct User {
        let id: String
        let email: String
        let username: String
    }

    struct Tokens {
        let access: String
        let refresh: String
    }

    static func registration(email: String, username: String, password: String = TestService.password,
                             confirmation: String? = nil) -> JSONValue {
        .object([("email", .string(email)), ("username", .string(username)), ("full_name", "Test User"),
                 ("password", .string(password)), ("confirm_password", .string(confirmation ?? password))])
    }

    private var registered = 0

    /// A new account, registered through `POST /register` (which must answer 201).
    func register(password: String = TestService.password) throws -> User {
        registered += 1
        let name = "user\(registered)_" + Hex.encode(try SecureRandom.bytes(3))
        let response = request("POST", "/api/v1/auth/register",
                               json: Self.registration(email: "\(name)@example.com", username: name, password: password))
        try #require(response.status == .created, "register: \(response.text)")
        return User(id: try #require(response.json?["id"]?.string), email: "\(name)@example.com", username: name)
    }

    @discardableResult
    func loginResponse(_ identifier: String, _ password: String = TestService.password, userAgent: String? = "AuthTests/1.0") -> TestResponse {
        request("POST", "/api/v1/auth/login", json: .object([("email", .string(identifier)), ("password", .string(password))]),
                userAgent: userAgent)
    }

    /// A login that must succeed: its tokens.
    func login(_ identifier: String, _ password: String = TestService.password, userAgent: String? = "AuthTests/1.0") throws -> Tokens {
        try Self.tokens(loginResponse(identifier, password, userAgent: userAgent))
    }

    static func tokens(_ response: TestResponse) throws -> Tokens {
        try #require(response.status == .ok, "expected tokens: \(response.status.code) \(response.text)")
        return Tokens(access: try #require(response.json?["access_token"]?.string),
                      refresh: try #require(response.json?["refresh_token"]?.string))
    }

    /// A registered user and a fresh login.
    func newUser() throws -> (User, Tokens) {
        let user = try register()
        return (user, try login(user.email))
    }

    func refresh(_ token: String) -> TestResponse {
        request("POST", "/api/v1/auth/refresh", json: .object([("refresh_token", .string(token))]))
    }

    func me(_ tokens: Tokens) -> TestResponse { request("GET", "/api/v1/auth/me", token: tokens.access) }

    func changePassword(_ tokens: Tokens, current: String, new: String, confirmation: String? = nil) -> TestResponse {
        request("POST", "/api/v1/auth/change-password", json: .object([
            ("current_password", .string(current)), ("new_password", .string(new)), ("confirm_password", .string(confirmation ?? new)),
        ]), token: tokens.access)
    }

    /// The session an access token names (its `sid` claim).
    func sessionID(_ tokens: Tokens) throws -> String {
        try #require(application.services.tokens.verify(tokens.access)?.sessionID)
    }

    /// `/metrics` as the pool would render it (this application's counters only).
    var metrics: String { request("GET", "/metrics").text }

    // MARK: the database

    /// The first column of the first row, as text (nil for NULL or no row).
    func value(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) throws -> String? {
        try database.query(sql, parameters).first?.string(0)
    }

    /// Waits (10 s at most, never a fixed sleep) until `waiters` requests wait on a lock the test's own connection holds.
    func waitForWaiter(_ what: String, waiters: Int = 1) throws {
        let holder = try #require(try database.query("SELECT pg_backend_pid()").first?.int(0))
        let deadline = Clock.nanoseconds() + 10_000_000_000
        // Row-lock waits only: another test's CREATE INDEX CONCURRENTLY (a migration) waits for every open transaction
        // of the database, this one's included, on a `virtualxid` lock. A second request for the same row waits
        // behind the first one (which holds the row's tuple lock), not on the test.
        while try count("""
            SELECT count(*) FROM pg_locks w WHERE NOT granted AND locktype IN ('transactionid', 'tuple') AND (
                $1 = ANY(pg_blocking_pids(pid)) OR EXISTS (
                    SELECT 1 FROM pg_locks f WHERE NOT f.granted AND f.locktype IN ('transactionid', 'tuple')
                       AND f.pid = ANY(pg_blocking_pids(w.pid)) AND $1 = ANY(pg_blocking_pids(f.pid))))
            """, [holder]) < waiters {
            try #require(Clock.nanoseconds() < deadline, "\(what) never waited for the test's lock")
        }
    }

    func count(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) throws -> Int {
        try #require(try database.query(sql, parameters).first?.int(0))
    }

    /// The types of a user's security events, oldest first.
    func eventTypes(_ user: User) throws -> [String] {
        try database.query("SELECT type FROM security_events WHERE user_id = $1 ORDER BY id", [user.id]).rows.map { try $0.requiredString(0) }
    }

    /// Moves time for some rows instead of waiting: `columns` of `table` go `seconds` into the past.
    func shift(_ table: String, _ columns: [String], by seconds: Int, where condition: String = "true") throws {
        let assignments = columns.map { "\($0) = \($0) - make_interval(secs => $1)" }.joined(separator: ", ")
        try database.query("UPDATE \(table) SET \(assignments) WHERE \(condition)", [seconds])
    }
}

@available(*, unavailable)
extension TestService: Sendable {}

/// A test's own failure, with what was seen.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A response with its body read as text and, when it is JSON, parsed.
struct TestResponse {
    let status: HTTPStatus
    let headers: [(String, String)]
    let text: String
    let json: JSONValue?

    init(_ response: HTTPResponse) {
        status = response.status
        headers = response.headers
        text = String(decoding: response.body, as: UTF8.self)
        json = try? JSONParser.parse(response.body)
    }

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    /// `{"detail": ...}` with a string detail.
    var detail: String? { json?["detail"]?.string }
}

extension JSONValue {
    var string: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    var int: Int? {
        guard case .integer(let value) = self else { return nil }
        return value
    }

    var array: [JSONValue]? {
        guard case .array(let value) = self else { return nil }
        return value
    }
}

/// A request answered by an application of its own (what a second worker is) on a thread of its own, so that it
/// may block — on a row lock the test holds, say — while the test goes on; `response()` waits for it to end. Not a
/// task: blocked, it would hold one of Swift concurrency's few threads, which the test or another test's
/// statement may need to release that lock.
final class SecondWorker: @unchecked Sendable {
    // @unchecked: `outcome` is written once by the thread before it ends, and read only after `pthread_join`.
    private let configuration: Configuration
    private let request: HTTPRequest
    private var outcome: Result<HTTPResponse, any Error>?
    private var thread = pthread_t()

    init(_ configuration: Configuration, _ request: HTTPRequest) throws {
        self.configuration = configuration
        self.request = request
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let worker = Unmanaged<SecondWorker>.fromOpaque(context).takeRetainedValue()
            worker.outcome = Result { try TestService.application(worker.configuration).respond(to: worker.request).response }
            return nil
        }, context)
        guard started == 0 else {
            Unmanaged<SecondWorker>.fromOpaque(context).release()
            throw Failure("pthread_create: \(started)")
        }
    }

    func response() throws -> TestResponse {
        pthread_join(thread, nil)
        return TestResponse(try #require(outcome).get())
    }
}
