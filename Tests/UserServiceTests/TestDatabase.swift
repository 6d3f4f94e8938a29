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

    deinit { _ = try? connection.query("DROP SCHEMA \(name) CASCADE") }

    /// The URL of a connection whose search_path is this schema.
    var url: String { Self.baseURL + (Self.baseURL.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(name)" }
}
