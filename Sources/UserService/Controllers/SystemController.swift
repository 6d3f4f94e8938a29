import HTTP
import Postgres

/// `GET /`, `/health`, `/metrics`, `/db/status`.
struct SystemController {
    let services: Services
    /// `GET /` answers from constant bytes: it is the benchmark's ceiling and must stay free of I/O.
    private let rootBody: [UInt8]
    /// The migration files, read and hashed once when the worker starts (nil when they cannot be read): a new
    /// release's files arrive with new workers.
    private let migrator: Migrator?

    init(_ services: Services) {
        self.services = services
        migrator = try? Migrator(directory: services.configuration.migrationsDirectory)
        rootBody = JSONValue.object([
            ("service", .string(ServiceVersion.name)), ("version", .string(ServiceVersion.version)), ("status", "running"),
        ]).bytes
    }

    func root(_ context: RequestContext) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: [("Content-Type", "application/json")], body: rootBody)
    }

    func health(_ context: RequestContext) -> HTTPResponse {
        do {
            try services.database.withConnection(retry: true) { try $0.query("SELECT 1") }
            return .json(.object([("status", "healthy"), ("database", "connected"), ("version", .string(ServiceVersion.version))]))
        } catch {
            services.metrics.recordDatabaseError()
            return .json(.object([("detail", "Database unavailable"), ("status", "unhealthy"), ("database", "disconnected")]),
                         status: .serviceUnavailable)
        }
    }

    func metrics(_ context: RequestContext) -> HTTPResponse {
        let text = services.metrics.render(routes: services.routes, securityEventTypes: SecurityEvent.Kind.allCases.map(\.rawValue))
        return HTTPResponse(status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: Array(text.utf8))
    }

    func databaseStatus(_ context: RequestContext) -> HTTPResponse {
        do {
            return try services.database.withConnection(retry: true) { connection in
                let start = Clock.nanoseconds()
                try connection.query("SELECT 1")
                let roundTrip = Double(Clock.nanoseconds() - start) / 1e6
                var members: [(String, JSONValue)] = [
                    ("connected", true),
                    ("server_version", .string(Self.versionText(connection.serverVersion))),
                    ("round_trip_ms", .number((roundTrip * 1000).rounded() / 1000)),
                ]
                if let migrator {
                    let status = try migrator.status(connection)
                    members.append(("schema_version", status.applied.last.map { .integer($0.version) } ?? .null))
                    members.append(("pending_migrations", .array(status.pending.map { .string($0.name) })))
                } else {
                    let version = try connection.query("SELECT max(version) FROM schema_migrations").first?.int(0)
                    members.append(("schema_version", version.map(JSONValue.integer) ?? .null))
                    members.append(("pending_migrations", .null))
                }
                return .json(.object(members))
            }
        } catch let error as PostgresError where error.isUnavailable {
            services.metrics.recordDatabaseError()
            return .json(.object([("detail", "Database unavailable"), ("connected", false)]), status: .serviceUnavailable)
        } catch {
            services.metrics.recordDatabaseError()
            return .json(.object([("detail", .string("Database status unknown")), ("connected", true)]), status: .internalServerError)
        }
    }

    /// 150018 → "15.18" (PostgreSQL 10 and later).
    static func versionText(_ number: Int) -> String { "\(number / 10000).\(number % 10000)" }
}
