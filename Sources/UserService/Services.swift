import HTTP
import Postgres

/// What handlers share, built once per worker: configuration, the database connection, the metrics, the
/// repositories, the token issuer, the authenticator, the password hasher and the route table.
final class Services {
    let configuration: Configuration
    let database: Database
    let metrics: ServiceMetrics
    let hasher: PasswordHasher
    let users: UserRepository
    let events: SecurityEventRepository
    let sessions: SessionRepository
    let throttle: LoginThrottleRepository
    let passwordChanges: PasswordChangeLimitRepository
    let tokens: AccessTokens
    let authenticator: Authenticator
    /// The router's table, set once it is built (for `/metrics` labels).
    var routes: [Router.Route] = []

    init(configuration: Configuration, database: Database, metrics: ServiceMetrics) throws {
        self.configuration = configuration
        self.database = database
        self.metrics = metrics
        hasher = try PasswordHasher(cost: configuration.bcryptRounds, metrics: metrics)
        users = UserRepository(database: database)
        events = SecurityEventRepository(database: database, metrics: metrics)
        sessions = SessionRepository(database: database, events: events)
        throttle = LoginThrottleRepository(
            database: database, limit: configuration.loginThrottleLimit,
            baseDelay: configuration.loginThrottleBaseDelaySeconds, maxDelay: configuration.loginThrottleMaxDelaySeconds,
            window: configuration.loginThrottleWindowSeconds)
        passwordChanges = PasswordChangeLimitRepository(database: database, limit: configuration.changePasswordMaxPerHour)
        tokens = try AccessTokens(configuration: configuration)
        authenticator = Authenticator(tokens: tokens, sessions: sessions, lastSeenInterval: configuration.sessionLastSeenIntervalSeconds)
    }
}

@available(*, unavailable)
extension Services: Sendable {}
