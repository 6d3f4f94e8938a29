import HTTP
import Postgres
import UserService

/// `user-service migrate [--status]`.
enum MigrateCommand {
    static func run(environment: [String: String], statusOnly: Bool) -> Int32 {
        guard let url = environment["MIGRATION_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) ?? environment["DATABASE_URL"], !url.isEmpty else {
            Log.write("user-service: configuration error: DATABASE_URL is required")
            return 1
        }
        let directory = environment["MIGRATIONS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "Migrations"
        return runReportingFailure("migrate") {
            let migrator = try Migrator(directory: directory)
            // Migrations may run long: no statement timeout here.
            let connection = try PostgresConnection(ConnectionOptions(url: url, connectTimeoutSeconds: 10, statementTimeoutMilliseconds: 0,
                                                                      applicationName: "user-service-migrate"))
            if statusOnly {
                let status = try migrator.status(connection)
                for applied in status.applied { print("applied  \(applied.name)") }
                for pending in status.pending { print("pending  \(pending.name)") }
                return
            }
            let applied = try migrator.migrate(connection) { Log.write("user-service: \($0)") }
            Log.write("user-service: \(applied.isEmpty ? "database is up to date" : "applied \(applied.count) migration(s)")")
        }
    }
}
