import Postgres
import Testing

/// DB_STARTUP_OPTIONS=false and DB_PREPARED_STATEMENTS=false: what a connection through PgBouncer needs (it refuses
/// the startup `options` parameter; before 1.21 its transaction mode cannot carry named prepared statements).
@Suite struct ConnectionBehindPoolerTests {
    @Test func withoutStartupOptionsTheRolesSettingsHold() throws {
        let db = try TestSchema()
        let url = try db.roleURL()
        try db.connection.executeScript("""
            ALTER ROLE \(db.name) SET TimeZone = 'UTC';
            ALTER ROLE \(db.name) SET DateStyle = 'ISO, YMD';
            ALTER ROLE \(db.name) SET statement_timeout = 1234;
            """)
        let unpinned = try PostgresConnection(ConnectionOptions(url: url, statementTimeoutMilliseconds: 5000, startupOptions: false))
        #expect(try unpinned.query("SHOW statement_timeout").first?.string(0) == "1234ms")
        #expect(try unpinned.query("SELECT '2026-11-28 18:44:44.5+02'::timestamptz").first?.timestamp(0)?.iso8601
                == "2026-11-28T16:44:44.500000Z")
        // With startup options (the default) the pinned values win over the role's.
        let pinned = try PostgresConnection(ConnectionOptions(url: url, statementTimeoutMilliseconds: 5000))
        #expect(try pinned.query("SHOW statement_timeout").first?.string(0) == "5s")
    }

    @Test func withoutStartupOptionsARoleWithOtherSettingsIsRefused() throws {
        let db = try TestSchema()
        let url = try db.roleURL()
        // The role's statement_timeout bounds every query there: 0 (no limit, also the server's default) is refused.
        for (setting, reported) in [("TimeZone = 'Europe/Berlin'", "TimeZone is Europe/Berlin"),
                                    ("DateStyle = 'German, DMY'", "DateStyle is German, DMY"),
                                    ("statement_timeout = 0", "statement_timeout is 0 (no limit)")] {
            try db.connection.executeScript("ALTER ROLE \(db.name) RESET ALL; ALTER ROLE \(db.name) SET \(setting);")
            let error = #expect(throws: PostgresError.self) {
                _ = try PostgresConnection(ConnectionOptions(url: url, startupOptions: false))
            }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.serverMessage.contains(reported) == true, "\(error?.serverMessage ?? "")")
            // The pinned startup options still override the role.
            _ = try PostgresConnection(ConnectionOptions(url: url))
        }
    }

    @Test func withoutPreparedStatementsNothingIsPreparedOnTheServer() throws {
        let statement = PreparedStatement("pooler_test_add", "SELECT $1::int8 + 1")
        for prepares in [false, true] {
            let connection = try PostgresConnection(ConnectionOptions(url: TestSchema.baseURL, preparedStatements: prepares))
            for _ in 0..<2 { #expect(try connection.query(statement, [Int64(41)]).first?.int(0) == 42) }
            let named = try connection.query("SELECT count(*) FROM pg_prepared_statements WHERE name = $1", [statement.name])
            #expect(try named.first?.int(0) == (prepares ? 1 : 0))
        }
    }
}
