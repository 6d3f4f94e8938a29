import HTTP
import Postgres

/// The fixed answer for each named constraint, so PostgreSQL's own message (which echoes the offending
/// value) never reaches a client. Each migration that adds a constraint a client can trip adds it here.
enum ConstraintErrors {
    static let emailTaken = APIError(.conflict, "Email already registered")

    static let details: [String: APIError] = [
        "users_email_key": emailTaken,
        "users_username_key": APIError(.conflict, "Username already taken"),
        "users_email_format": APIError(.unprocessableEntity, "Invalid email address"),
        "users_username_format": APIError(.unprocessableEntity, "Invalid username"),
        "users_full_name_length": APIError(.unprocessableEntity, "Full name is too long"),
        "users_current_title_length": APIError(.unprocessableEntity, "Current title is too long"),
        "users_location_length": APIError(.unprocessableEntity, "Location is too long"),
        "users_hashed_password_format": APIError(.unprocessableEntity, "Invalid password hash"),
        "user_sessions_user_agent_length": APIError(.unprocessableEntity, "User agent is too long"),
        "user_sessions_ip_address_length": APIError(.unprocessableEntity, "Client address is too long"),
        "login_throttle_identifier_length": APIError(.unprocessableEntity, "Login is too long"),
        // The account was deleted between the token check and the write: as for any token of a deleted account.
        "user_profiles_user_id_fkey": APIError.unauthorized(),
        "user_preferences_user_id_fkey": APIError.unauthorized(),
        // An event of an account deleted meanwhile (a login or an export racing the account's deletion).
        "security_events_user_id_fkey": APIError.unauthorized(),
        "security_events_actor_id_fkey": APIError.unauthorized(),
    ]

    /// Constraints that check the client's input against what is stored (which the request alone cannot): answered
    /// as FastAPI's 422 list, as the same rule is when the request alone breaks it.
    static let validationIssues: [String: ValidationIssue] = [
        "user_preferences_salary_range": PreferencesUpdate.salaryRangeIssue,
    ]

    /// The client-facing error for a database failure (a 422 list or a fixed `detail`), or nil for a 500.
    static func clientError(for error: PostgresError) -> (any HTTPResponseError)? {
        if let constraint = error.constraint, let issue = validationIssues[constraint] { return ValidationError([issue]) }
        // Any other CHECK a body could still trip: FastAPI's 422 list, naming the body (never PostgreSQL's message).
        if error.sqlState == .checkViolation, error.constraint.map({ details[$0] == nil }) ?? true {
            return ValidationError([ValidationIssue(location: ["body"], message: "Value error, a value is not accepted", type: "value_error")])
        }
        return apiError(for: error)
    }

    /// The client-facing error for a database failure, or nil when it is the service's fault (a 500).
    static func apiError(for error: PostgresError) -> APIError? {
        if error.isUnavailable { return .databaseUnavailable }
        if error.sqlState == .queryCanceled { return APIError(.serviceUnavailable, "Database timed out") }
        if let constraint = error.constraint, let known = details[constraint] { return known }
        switch error.sqlState {
        case .uniqueViolation?: return APIError(.conflict, "Conflict")
        case .checkViolation?, .notNullViolation?: return APIError(.unprocessableEntity, "Invalid value")
        default: return nil
        }
    }
}
