import Crypto
import Postgres
import HTTP
import Testing
@testable import UserService

#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL for tests: `make test` starts one and sets `TEST_DATABASE_URL`. Each test gets a schema of
/// its own, dropped afterwards. Without the variable the test fails loudly rather than being skipped.
final class TestSchema {
    let connection: PostgresConnection
    let name: String

    static var baseURL: String {
        guard let url = getenv("TEST_DATABASE_URL").map({ String(cString: $0) }), !url.isEmpty else {
            fatalError("TEST_DATABASE_URL is not set: run the tests with `make test`")
        }
        return url
    }

    init() throws {
        name = "t_" + Hex.encode(try SecureRandom.bytes(6))
        connection = try PostgresConnection(ConnectionOptions(url: Self.baseURL, statementTimeoutMilliseconds: 10_000))
        try connection.query("CREATE SCHEMA \(name)")
        try connection.query("SELECT set_config('search_path', $1, false)", [name])
    }

    deinit {
        _ = try? connection.query("DROP SCHEMA \(name) CASCADE")
        _ = try? connection.query("DROP ROLE IF EXISTS \(name)")
    }

    /// The URL of a login role of this schema's own, whose search_path is the schema and which may read and write
    /// the tables that exist when this is called (the service's role in production has those rights, and its
    /// migrations run as another): what an `Application` on this schema connects with.
    func roleURL() throws -> String {
        let password = Hex.encode(try SecureRandom.bytes(16))
        try connection.executeScript("""
            CREATE ROLE \(name) LOGIN PASSWORD '\(password)';
            ALTER ROLE \(name) SET search_path = \(name);
            GRANT USAGE ON SCHEMA \(name) TO \(name);
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \(name) TO \(name);
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA \(name) TO \(name);
            """)
        // Parameters in a URI's query take precedence over its user part.
        return Self.baseURL + (Self.baseURL.contains("?") ? "&" : "?") + "user=\(name)&password=\(password)"
    }
}
