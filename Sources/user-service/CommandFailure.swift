import HTTP
import Postgres
import UserService

/// Runs a one-shot command's work; exit code 0, or 1 with one line saying what went wrong (never a secret:
/// libpq's connection messages name the host and user, not the password).
func runReportingFailure(_ command: String, _ work: () throws -> Void) -> Int32 {
    do {
        try work()
        return 0
    } catch let error as ConfigurationError {
        Log.write("user-service: \(error)")
    } catch let error as PostgresError where error.kind == .connectionFailed {
        Log.write("user-service: cannot connect to the database: \(error.serverMessage.split(separator: "\n").first ?? "")")
    } catch {
        Log.write("user-service: \(command) failed: \(error)")
    }
    return 1
}
