import HTTP
import Postgres
import UserService

/// `user-service cleanup`: removes expired and revoked sessions, used and expired refresh tokens, stale throttle
/// counters and old security events, and reports what it removed.
enum CleanupCommand {
    static func run(environment: [String: String]) -> Int32 {
        runReportingFailure("cleanup") {
            let configuration = try Configuration.load(from: environment, defaultWorkers: 1)
            let connection = try PostgresConnection(configuration.connectionOptions(applicationName: "user-service-cleanup"))
            let report = try Cleanup(connection: connection, configuration: configuration).run()
            Log.write("user-service: cleanup \(report.description)")
        }
    }
}
