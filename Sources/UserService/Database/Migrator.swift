import Crypto
public import Postgres
internal import Glibc

/// Applies `Migrations/NNNN_description.sql` in order, each once, under an advisory lock.
///
/// Each file runs in its own transaction together with its row in `schema_migrations`, unless its first line
/// is `-- migrate: no-transaction` (for `CREATE INDEX CONCURRENTLY`). A file edited after it was applied is an error.
public struct Migrator {
    public struct Migration: Equatable {
        public let version: Int
        public let name: String
        public let sql: String
        public let checksum: String
        public var runsInTransaction: Bool { !sql.hasPrefix("-- migrate: no-transaction") }
    }

    public struct Status: Equatable {
        public var applied: [(version: Int, name: String)]
        public var pending: [Migration]
        public static func == (a: Status, b: Status) -> Bool {
            a.applied.elementsEqual(b.applied, by: ==) && a.pending == b.pending
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreadableDirectory(String)
        case badFileName(String)
        case duplicateVersion(Int)
        case edited(name: String)
        case failed(name: String, PostgresError)

        public var description: String {
            switch self {
            case .unreadableDirectory(let path): return "migrations directory \(path) cannot be read"
            case .badFileName(let name): return "migration file \(name) is not named NNNN_description.sql"
            case .duplicateVersion(let version): return "two migration files have version \(version)"
            case .edited(let name): return "migration \(name) was edited after it was applied: restore it and add a new migration instead"
            case .failed(let name, let error): return "migration \(name) failed: \(error) \(error.serverMessage)"
            }
        }
    }

    /// Any constant shared by every copy of the service: two hosts migrating at once take turns.
    static let advisoryLockKey = 0x7573_6572_7376  // "usersv"

    public let migrations: [Migration]

    /// Throws `Failure`, or `LibcryptoError` when a checksum cannot be computed.
    public init(directory: String) throws {
        guard let names = FileReader.listDirectory(directory) else { throw Failure.unreadableDirectory(directory) }
        var migrations: [Migration] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            let digits = name.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, name.dropFirst(digits.count).hasPrefix("_"), let version = Int(digits),
                  let bytes = FileReader.readBytes(directory + "/" + name)
            else { throw Failure.badFileName(name) }
            guard !migrations.contains(where: { $0.version == version }) else { throw Failure.duplicateVersion(version) }
            migrations.append(Migration(version: version, name: String(name.dropLast(4)),
                                        sql: String(decoding: bytes, as: UTF8.self), checksum: Hex.encode(try Digest.sha256(bytes))))
        }
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Applies every pending migration; returns the ones it applied.
    @discardableResult
    public func migrate(_ connection: PostgresConnection, log: (String) -> Void = { _ in }) throws -> [Migration] {
        try lock(connection)
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Self.advisoryLockKey]) }
        try connection.executeScript("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """)
        let pending = try check(connection)
        for migration in pending {
            do {
                let record = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"
                if migration.runsInTransaction {
                    try connection.transaction { connection in
                        try connection.executeScript(migration.sql)
                        try connection.query(record, [migration.version, migration.name, migration.checksum])
                    }
                } else {
                    try connection.executeScript(migration.sql)
                    try connection.query(record, [migration.version, migration.name, migration.checksum])
                }
            } catch let error as PostgresError {
                throw Failure.failed(name: migration.name, error)
            }
            log("applied migration \(migration.name)")
        }
        return pending
    }

    /// Takes the advisory lock, polling with `pg_try_advisory_lock` rather than waiting in `pg_advisory_lock`:
    /// a session blocked in a statement holds a snapshot, and `CREATE INDEX CONCURRENTLY` in the session that
    /// holds the lock waits for every such snapshot, which would deadlock two concurrent runs.
    private func lock(_ connection: PostgresConnection) throws {
        while try connection.query("SELECT pg_try_advisory_lock($1)", [Self.advisoryLockKey]).first?.bool(0) != true {
            usleep(50_000)
        }
    }

    /// What is applied and what is pending; fails if an applied file was edited.
    public func status(_ connection: PostgresConnection) throws -> Status {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL").first?.bool(0) ?? false
        guard exists else { return Status(applied: [], pending: migrations) }
        let applied = try appliedRows(connection)
        _ = try check(connection)
        return Status(applied: applied.map { ($0.version, $0.name) }, pending: migrations.filter { m in !applied.contains { $0.version == m.version } })
    }

    private func appliedRows(_ connection: PostgresConnection) throws -> [(version: Int, name: String, checksum: String)] {
        try connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version").rows.map {
            (try $0.int(0) ?? 0, try $0.requiredString(1), try $0.requiredString(2))
        }
    }

    /// The pending migrations, after checking every applied one against its file.
    private func check(_ connection: PostgresConnection) throws -> [Migration] {
        let applied = try appliedRows(connection)
        for row in applied {
            if let file = migrations.first(where: { $0.version == row.version }), !ConstantTime.equals(Array(file.checksum.utf8), Array(row.checksum.utf8)) {
                throw Failure.edited(name: file.name)
            }
        }
        return migrations.filter { m in !applied.contains { $0.version == m.version } }
    }
}
