import HTTP
import Postgres

/// What handlers share, built once when the worker starts: configuration, the worker's database connection, the
/// metrics, the repositories, tokens, the authenticator, the password hasher and rules, and the route table.
final class Services {
    let configuration: Configuration
    let database: Database
    let metrics: ServiceMetrics
    let hasher: PasswordHasher
    let passwordRules: PasswordRules
    let tokens: AccessTokens
    let users: UserRepository
    let events: SecurityEventRepository
    let sessions: SessionRepository
    let throttle: LoginThrottleRepository
    let passwordChanges: AccountWindowLimit
    let profiles: ProfileRepository
    let preferences: PreferencesRepository
    let sessionCheck: SessionCheck
    let authenticator: Authenticator
    let accountData: AccountDataRepository
    let directory: DirectoryRepository
    let directoryLimit: AccountWindowLimit
    /// The published public keys (`GET /.well-known/jwks.json`), made and tagged once.
    let keySet: KeySet
    let keySetTag: String
    let passwordResets: PasswordResetRepository
    let emailVerifications: EmailVerificationRepository
    /// The per-account limits of the routes that mail a link on demand.
    let verificationRequests: AccountWindowLimit
    let addressChangeRequests: AccountWindowLimit
    /// Swagger UI's and ReDoc's files; nil when `DOCS_ENABLED` is false.
    let docsAssets: DocsAssets?
    /// The router's table, set once it is built (for `/metrics` labels).
    var routes: [Router.Route] = []

    init(configuration: Configuration, database: Database, metrics: ServiceMetrics) throws {
        self.configuration = configuration
        self.database = database
        self.metrics = metrics
        hasher = try PasswordHasher(cost: configuration.bcryptRounds, metrics: metrics)
        passwordRules = PasswordRules(policy: configuration.passwordPolicy)
        tokens = try AccessTokens(configuration: configuration)
        keySet = try KeySet(tokens.publishedKeys)
        keySetTag = try Revalidated<KeySet>.entityTag(of: keySet.body)
        events = SecurityEventRepository(database: database, metrics: metrics)
        users = UserRepository(database: database, events: events)
        sessions = SessionRepository(database: database, events: events)
        throttle = LoginThrottleRepository(
            database: database, limit: configuration.loginThrottleLimit, baseDelay: configuration.loginThrottleBaseDelaySeconds,
            maxDelay: configuration.loginThrottleMaxDelaySeconds, window: configuration.loginThrottleWindowSeconds)
        passwordChanges = AccountWindowLimit(database: database, counter: AccountWindowLimit.passwordChanges, limit: configuration.changePasswordMaxPerHour)
        profiles = ProfileRepository(database: database)
        preferences = PreferencesRepository(database: database)
        accountData = AccountDataRepository(database: database)
        directory = DirectoryRepository(database: database)
        directoryLimit = AccountWindowLimit(database: database, counter: AccountWindowLimit.directoryRequests, limit: configuration.directoryMaxPerMinute)
        passwordResets = PasswordResetRepository(database: database, events: events, lifetimeMinutes: configuration.passwordResetExpireMinutes,
                                                 maxPerHour: configuration.passwordResetMaxPerHour)
        emailVerifications = EmailVerificationRepository(database: database, events: events, lifetimeHours: configuration.emailVerificationExpireHours)
        verificationRequests = AccountWindowLimit(database: database, counter: AccountWindowLimit.verificationRequests,
                                                  limit: configuration.verifyEmailMaxPerHour)
        addressChangeRequests = AccountWindowLimit(database: database, counter: AccountWindowLimit.addressChangeRequests,
                                                   limit: configuration.changeEmailMaxPerHour)
        let cache = configuration.sessionCacheSeconds > 0
            ? SessionCache(lifetimeSeconds: configuration.sessionCacheSeconds,
                           generations: SessionGenerations(counters: metrics.counters, base: metrics.layout.sessionGenerationBase))
            : nil
        sessionCheck = SessionCheck(sessions: sessions, database: database,
                                    lastSeenInterval: configuration.sessionLastSeenIntervalSeconds, metrics: metrics, cache: cache)
        authenticator = Authenticator(tokens: tokens, sessions: sessionCheck)
        docsAssets = configuration.docsEnabled ? try DocsAssets(directory: configuration.docsDirectory) : nil
    }
}

@available(*, unavailable)
extension Services: Sendable {}
