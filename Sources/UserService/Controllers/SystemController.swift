import HTTP
import Postgres

/// `GET /`, `/health`, `/metrics`, `/db/status`.
struct SystemController {
    let services: Services
    /// Read once when the worker starts: `/db/status` compares the database with it on each request.
    private let migrator: Migrator?

    init(_ services: Services) {
        self.services = services
        migrator = try? Migrator(directory: services.configuration.migrationsDirectory)
    }

    /// `GET /` is the benchmark's ceiling: constant data, no I/O.
    func root(_ context: RequestContext) -> ServiceInfo { ServiceInfo() }

    func health(_ context: RequestContext) throws -> Health {
        do {
            try services.database.withConnection(retry: true) { try $0.query("SELECT 1") }
            return Health()
        } catch {
            services.metrics.recordDatabaseError()
            throw ModelError(status: .serviceUnavailable, model: Unhealthy())
        }
    }

    func metrics(_ context: RequestContext) -> PlainText {
        var text = services.metrics.render(routes: services.routes, securityEventTypes: SecurityEvent.Kind.allCases.map(\.rawValue))
        // The outbox's figures come from the database: left out (and counted as a database error) while it is unreachable.
        do {
            text += try services.database.withConnection(retry: true) { try MailMetrics.read($0) }.rendered
        } catch {
            services.metrics.recordDatabaseError()
        }
        return PlainText(body: Array(text.utf8))
    }

    func databaseStatus(_ context: RequestContext) throws -> DatabaseStatus {
        do {
            return try services.database.withConnection(retry: true) { connection in
                let start = Clock.nanoseconds()
                try connection.query("SELECT 1")
                let roundTrip = Double(Clock.nanoseconds() - start) / 1e6
                let schemaVersion: Int?
                let pending: [String]?
                if let migrator {
                    let status = try migrator.status(connection)
                    schemaVersion = status.applied.last?.version
                    pending = status.pending.map(\.name)
                } else {
                    schemaVersion = try connection.query("SELECT max(version) FROM schema_migrations").first?.int(0)
                    pending = nil
                }
                return DatabaseStatus(serverVersion: Self.versionText(connection.serverVersion),
                                      roundTripMilliseconds: (roundTrip * 1000).rounded() / 1000,
                                      schemaVersion: schemaVersion, pendingMigrations: pending)
            }
        } catch let error as PostgresError where error.isUnavailable {
            services.metrics.recordDatabaseError()
            throw ModelError(status: .serviceUnavailable, model: DatabaseStatusUnknown(detail: "Database unavailable", connected: false))
        } catch {
            services.metrics.recordDatabaseError()
            throw ModelError(status: .internalServerError, model: DatabaseStatusUnknown(detail: "Database status unknown", connected: true))
        }
    }

    /// 150018 → "15.18" (PostgreSQL 10 and later).
    static func versionText(_ number: Int) -> String { "\(number / 10000).\(number % 10000)" }
}
