import Postgres
import HTTP
import Testing
@testable import UserService

#if canImport(Glibc)
import Glibc
#endif

@Suite struct MigratorTests {
    func directory(_ files: [String: String]) -> String {
        var template = Array("/tmp/migrations-test-XXXXXX".utf8CString)
        let path = String(cString: mkdtemp(&template)!)
        for (name, text) in files {
            let file = fopen(path + "/" + name, "w")!
            fputs(text, file)
            fclose(file)
        }
        return path
    }

    @Test func appliesInOrderOnceAndRecordsChecksums() throws {
        let db = try TestSchema()
        let path = directory([
            "0002_more.sql": "ALTER TABLE things ADD COLUMN size int;",
            "0001_things.sql": "CREATE TABLE things (id int);",
        ])
        let migrator = try Migrator(directory: path)
        #expect(migrator.migrations.map(\.name) == ["0001_things", "0002_more"])
        #expect(try migrator.status(db.connection).pending.count == 2)
        #expect(try migrator.migrate(db.connection).map(\.version) == [1, 2])
        #expect(try migrator.migrate(db.connection).isEmpty)
        let status = try migrator.status(db.connection)
        #expect(status.applied.map(\.version) == [1, 2] && status.pending.isEmpty)
        #expect(try db.connection.query("SELECT count(*) FROM schema_migrations").first?.int(0) == 2)
    }

    @Test func failedMigrationLeavesNothingBehind() throws {
        let db = try TestSchema()
        let path = directory([
            "0001_ok.sql": "CREATE TABLE a (id int);",
            "0002_broken.sql": "CREATE TABLE b (id int); SELECT * FROM missing_table;",
        ])
        #expect(throws: Migrator.Failure.self) { try Migrator(directory: path).migrate(db.connection) }
        #expect(try db.connection.query("SELECT to_regclass('b') IS NULL").first?.bool(0) == true)
        #expect(try db.connection.query("SELECT string_agg(version::text, ',') FROM schema_migrations").first?.string(0) == "1")
    }

    @Test func editedMigrationIsRefused() throws {
        let db = try TestSchema()
        let path = directory(["0001_things.sql": "CREATE TABLE things (id int);"])
        try Migrator(directory: path).migrate(db.connection)
        let file = fopen(path + "/0001_things.sql", "w")!
        fputs("CREATE TABLE things (id bigint);", file)
        fclose(file)
        do {
            try Migrator(directory: path).migrate(db.connection)
            Issue.record("edited migration accepted")
        } catch let error as Migrator.Failure {
            #expect(error.description.contains("0001_things was edited"))
        }
        #expect(throws: Migrator.Failure.self) { try Migrator(directory: path).status(db.connection) }
    }

    @Test func noTransactionMarkerAllowsConcurrentIndexes() throws {
        let db = try TestSchema()
        let path = directory([
            "0001_t.sql": "CREATE TABLE t (id int);",
            "0002_index.sql": "-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY t_id ON t (id);",
        ])
        try Migrator(directory: path).migrate(db.connection)
        #expect(try db.connection.query("SELECT to_regclass('t_id') IS NOT NULL").first?.bool(0) == true)
    }

    @Test func badFileNamesAreRefused() {
        #expect(throws: Migrator.Failure.self) { try Migrator(directory: directory(["first.sql": "SELECT 1;"])) }
        #expect(throws: Migrator.Failure.self) { try Migrator(directory: directory(["0001_a.sql": "", "001_b.sql": ""])) }
        #expect(throws: Migrator.Failure.self) { try Migrator(directory: "/nonexistent") }
    }

    @Test func shippedMigrationsApplyCleanly() throws {
        let db = try TestSchema()
        let migrator = try Migrator(directory: shippedMigrationsPath())
        try migrator.migrate(db.connection)
        #expect(try migrator.status(db.connection).pending.isEmpty)
    }
}

/// The repository's Migrations folder, found from this source file's path.
func shippedMigrationsPath(file: String = #filePath) -> String {
    var parts = file.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/Migrations"
}
