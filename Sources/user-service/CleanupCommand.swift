import Postgres
import UserService

/// `user-service cleanup`: removes expired and revoked sessions, used and expired refresh tokens, stale throttle
/// counters and old security events, and reports what it removed.
enum CleanupCommand {
    static func run(environment: [String: String]) -> Int32 {
        do {
            let configuration = try Configuration.load(from: environment, defaultWorkers: 1)
            let connection = try PostgresConnection(ConnectionOptions(
                url: configuration.databaseURL, connectTimeoutSeconds: configuration.dbConnectTimeoutSeconds,
                statementTimeoutMilliseconds: configuration.dbStatementTimeoutMilliseconds, applicationName: "user-service-cleanup"))
            let report = try Cleanup(connection: connection, configuration: configuration).run()
            Log.write("user-service: cleanup \(report.description)")
            return 0
        } catch let error as ConfigurationError {
            Log.write("user-service: \(error)")
            return 1
        } catch let error as PostgresError where error.kind == .connectionFailed {
            Log.write("user-service: cannot connect to the database: \(error.serverMessage.split(separator: "\n").first ?? "")")
            return 1
        } catch {
            Log.write("user-service: cleanup failed: \(error)")
            return 1
        }
    }
}
