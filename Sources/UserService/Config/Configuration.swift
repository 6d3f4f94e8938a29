import Crypto
import HTTP

/// Everything the service reads from its environment, checked once at start and on every reload.
public struct Configuration: Sendable {
    public var databaseURL: String
    /// The HS256 secret: signs when `jwtAlgorithm` is HS256 (then required), only verifies otherwise (a rotation
    /// away from HS256 keeps it until the tokens it signed have expired).
    public var jwtSecretKey: [UInt8]?
    public var jwtKeyID: String
    /// Earlier secrets by key id: tokens they signed still verify until they expire.
    public var jwtPreviousKeys: [String: [UInt8]]
    /// `iss` and `aud`: nil when set empty (the compatibility setting): the claim is neither written nor required.
    public var jwtIssuer: String?
    public var jwtAudience: String?
    public var accessTokenExpireMinutes: Int
    public var refreshTokenExpireDays: Int
    public var sessionMaxDays: Int
    public var sessionLastSeenIntervalSeconds: Int
    /// How long a worker may answer a read's session check from its cache (0: never; every check is a query).
    public var sessionCacheSeconds: Int = 1
    public var bcryptRounds: Int
    public var passwordPolicy: PasswordPolicy
    public var workers: Int
    /// Workers on the password socket, when the pool has one (see `serve --listen-password`).
    public var passwordWorkers: Int
    public var maxBodyBytes: Int
    /// Members of one JSON object or elements of one array in a request body.
    public var maxJSONMembers: Int
    /// Change-password attempts per account per hour, successes included.
    public var changePasswordMaxPerHour: Int
    /// Directory searches and lookups of other users per account per minute.
    public var directoryMaxPerMinute: Int
    public var drainTimeoutSeconds: Int
    public var dbStatementTimeoutMilliseconds: Int
    public var dbConnectTimeoutSeconds: Int
    /// `DB_STARTUP_OPTIONS`, `DB_PREPARED_STATEMENTS`: off behind PgBouncer (see `ConnectionOptions`).
    public var dbStartupOptions = true
    public var dbPreparedStatements = true
    public var migrationsDirectory: String
    /// `/openapi.json`, `/docs`, `/redoc` and the pages' assets; off: all of them answer 404.
    public var docsEnabled: Bool
    /// Swagger UI's and ReDoc's files (read by each worker at start when the docs are enabled).
    public var docsDirectory: String
    public var refreshReuseGraceSeconds: Int
    public var loginThrottleLimit: Int
    public var loginThrottleBaseDelaySeconds: Int
    public var loginThrottleMaxDelaySeconds: Int
    public var loginThrottleWindowSeconds: Int
    public var cleanupRetentionDays: Int
    public var securityEventRetentionDays: Int
    public var cleanupBatchSize: Int
    // The mail flows: password reset, email verification, change of address.
    /// How long a password-reset link works.
    public var passwordResetExpireMinutes: Int
    /// How long an email-verification link works.
    public var emailVerificationExpireHours: Int
    /// Reset requests per address per hour; beyond it the same answer, and no mail.
    public var passwordResetMaxPerHour: Int
    /// `verify-email-request`s per account per hour; beyond it 429.
    public var verifyEmailMaxPerHour: Int
    /// `change-email` requests per account per hour; beyond it 429.
    public var changeEmailMaxPerHour: Int
    /// Whether registration sends a verification mail.
    public var emailVerificationOnRegister: Bool
    /// Whether login refuses an account whose address is not verified (403, after the right password).
    public var requireVerifiedEmail: Bool
    /// Mail: the relay, the sender, the links, templates, retries, retention (`user-service mailer`, cleanup).
    public var mail: MailSettings
    // MARK: Signing keys (JWT_ALGORITHM, JWT_PRIVATE_KEY_FILE, JWT_PREVIOUS_PUBLIC_KEY_FILES)
    /// What new access tokens are signed with.
    public var jwtAlgorithm: JWTAlgorithm = .hs256
    /// The signing key when `jwtAlgorithm` is EdDSA or ES256; nil for HS256.
    public var jwtPrivateKey: KeyFile?
    /// Public keys that still verify (earlier signing keys), published in the JWKS after the signing key's.
    public var jwtPublicKeys: [KeyFile] = []
    // MARK: -

    /// Lines to log once at start (settings accepted but meaningless here).
    public var warnings: [String] = []

    /// Reads the configuration. Errors name the variable and the problem, never the value.
    public static func load(from environment: [String: String], defaultWorkers: Int) throws(ConfigurationError) -> Configuration {
        let reader = Reader(environment: environment)
        let algorithm = try parseAlgorithm(reader.string("JWT_ALGORITHM", default: JWTAlgorithm.hs256.rawValue))
        let secret = try parseSecret(algorithm == .hs256 ? try reader.required("JWT_SECRET_KEY") : environment["JWT_SECRET_KEY"] ?? "")
        let databaseURL = try reader.required("DATABASE_URL")
        let keyID = reader.string("JWT_KEY_ID", default: "1")
        var configuration = Configuration(
            databaseURL: databaseURL,
            jwtSecretKey: secret,
            jwtKeyID: keyID,
            jwtPreviousKeys: try previousKeys(reader.string("JWT_PREVIOUS_SECRET_KEYS", default: ""), currentKeyID: keyID),
            jwtIssuer: reader.emptyMeansNone("JWT_ISSUER", default: "user-service"),
            jwtAudience: reader.emptyMeansNone("JWT_AUDIENCE", default: "user-service"),
            accessTokenExpireMinutes: try reader.integer("ACCESS_TOKEN_EXPIRE_MINUTES", default: 30, range: 1...1440),
            refreshTokenExpireDays: try reader.integer("REFRESH_TOKEN_EXPIRE_DAYS", default: 7, range: 1...365),
            sessionMaxDays: try reader.integer("SESSION_MAX_DAYS", default: 30, range: 1...3650),
            sessionLastSeenIntervalSeconds: try reader.integer("SESSION_LAST_SEEN_INTERVAL_SECONDS", default: 300, range: 0...86400),
            bcryptRounds: try reader.integer("BCRYPT_ROUNDS", default: 12, range: 4...Bcrypt.maximumCost),
            passwordPolicy: PasswordPolicy(
                minimumLength: try reader.integer("PASSWORD_MIN_LENGTH", default: 8, range: 1...72),
                requireUppercase: try reader.boolean("PASSWORD_REQUIRE_UPPERCASE", default: true),
                requireLowercase: try reader.boolean("PASSWORD_REQUIRE_LOWERCASE", default: true),
                requireDigit: try reader.boolean("PASSWORD_REQUIRE_DIGIT", default: true)),
            workers: try reader.integer("WORKERS", default: defaultWorkers, range: 1...256),
            passwordWorkers: try reader.integer("PASSWORD_WORKERS", default: defaultWorkers, range: 1...256),
            maxBodyBytes: try reader.integer("MAX_BODY_BYTES", default: 65536, range: 1024...(16 << 20)),
            maxJSONMembers: try reader.integer("MAX_JSON_MEMBERS", default: JSONParser.Limits().maximumMembers, range: 16...1_000_000),
            changePasswordMaxPerHour: try reader.integer("CHANGE_PASSWORD_MAX_PER_HOUR", default: 5, range: 1...1000),
            directoryMaxPerMinute: try reader.integer("DIRECTORY_MAX_PER_MINUTE", default: 60, range: 1...100_000),
            drainTimeoutSeconds: try reader.integer("DRAIN_TIMEOUT_SECONDS", default: 10, range: 1...600),
            dbStatementTimeoutMilliseconds: try reader.integer("DB_STATEMENT_TIMEOUT_MS", default: 5000, range: 1...600_000),
            dbConnectTimeoutSeconds: try reader.integer("DB_CONNECT_TIMEOUT_SECONDS", default: 3, range: 1...60),
            migrationsDirectory: reader.string("MIGRATIONS_DIR", default: "Migrations"),
            docsEnabled: try reader.boolean("DOCS_ENABLED", default: true),
            docsDirectory: reader.string("DOCS_DIR", default: "docs/ui"),
            refreshReuseGraceSeconds: try reader.integer("REFRESH_REUSE_GRACE_SECONDS", default: 5, range: 0...300),
            loginThrottleLimit: try reader.integer("LOGIN_THROTTLE_LIMIT", default: 5, range: 1...1_000_000),
            loginThrottleBaseDelaySeconds: try reader.integer("LOGIN_THROTTLE_BASE_DELAY_SECONDS", default: 30, range: 1...86400),
            loginThrottleMaxDelaySeconds: try reader.integer("LOGIN_THROTTLE_MAX_DELAY_SECONDS", default: 900, range: 1...86400),
            loginThrottleWindowSeconds: try reader.integer("LOGIN_THROTTLE_WINDOW_SECONDS", default: 3600, range: 1...604_800),
            cleanupRetentionDays: try reader.integer("CLEANUP_RETENTION_DAYS", default: 30, range: 0...3650),
            securityEventRetentionDays: try reader.integer("SECURITY_EVENT_RETENTION_DAYS", default: 90, range: 1...3650),
            cleanupBatchSize: try reader.integer("CLEANUP_BATCH_SIZE", default: 1000, range: 1...100_000),
            passwordResetExpireMinutes: try reader.integer("PASSWORD_RESET_EXPIRE_MINUTES", default: 60, range: 5...1440),
            emailVerificationExpireHours: try reader.integer("EMAIL_VERIFICATION_EXPIRE_HOURS", default: 48, range: 1...720),
            passwordResetMaxPerHour: try reader.integer("PASSWORD_RESET_MAX_PER_HOUR", default: 3, range: 1...100),
            verifyEmailMaxPerHour: try reader.integer("VERIFY_EMAIL_MAX_PER_HOUR", default: 3, range: 1...100),
            changeEmailMaxPerHour: try reader.integer("CHANGE_EMAIL_MAX_PER_HOUR", default: 5, range: 1...100),
            emailVerificationOnRegister: try reader.boolean("EMAIL_VERIFICATION_ON_REGISTER", default: true),
            requireVerifiedEmail: try reader.boolean("REQUIRE_VERIFIED_EMAIL", default: false),
            mail: try MailSettings.load(reader))
        configuration.sessionCacheSeconds = try reader.integer("SESSION_CACHE_SECONDS", default: 1, range: 0...60)
        try configuration.loadSigningKeys(algorithm: algorithm, reader.string("JWT_PRIVATE_KEY_FILE", default: ""),
                                          publicKeyFiles: reader.string("JWT_PREVIOUS_PUBLIC_KEY_FILES", default: ""))
        // Cleanup must keep used refresh tokens as long as they could be replayed, or reuse detection goes blind.
        guard configuration.cleanupRetentionDays >= configuration.refreshTokenExpireDays else {
            throw ConfigurationError(variable: "CLEANUP_RETENTION_DAYS",
                                     problem: "must be at least REFRESH_TOKEN_EXPIRE_DAYS (refresh-token reuse detection needs the rows)")
        }
        configuration.dbStartupOptions = try reader.boolean("DB_STARTUP_OPTIONS", default: true)
        configuration.dbPreparedStatements = try reader.boolean("DB_PREPARED_STATEMENTS", default: true)
        // DB_STARTUP_OPTIONS=false is for a transaction-mode pooler, where LISTEN holds no session of the worker's own:
        // notifications would be lost and revocations last up to SESSION_CACHE_SECONDS (docs/deploy.md, "Behind
        // PgBouncer").
        guard configuration.dbStartupOptions || configuration.sessionCacheSeconds == 0 else {
            throw ConfigurationError(variable: "SESSION_CACHE_SECONDS",
                                     problem: "must be 0 with DB_STARTUP_OPTIONS=false (behind a transaction-mode pooler the "
                                         + "session cache would miss revocations)")
        }
        for name in ["DB_POOL_SIZE", "DB_MAX_OVERFLOW"] where environment[name] != nil {
            configuration.warnings.append("\(name) is ignored: each worker process holds exactly one database connection")
        }
        return configuration
    }

    /// `JWT_PREVIOUS_SECRET_KEYS`: comma-separated `kid:secret` pairs, each secret at least 32 bytes.
    private static func previousKeys(_ text: String, currentKeyID: String) throws(ConfigurationError) -> [String: [UInt8]] {
        var keys: [String: [UInt8]] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1)
            let keyID = parts.first.map { $0.trimmingWhitespace() } ?? ""
            guard parts.count == 2, !keyID.isEmpty else {
                throw ConfigurationError(variable: "JWT_PREVIOUS_SECRET_KEYS", problem: "must be comma-separated kid:secret pairs")
            }
            guard keyID != currentKeyID, keys[keyID] == nil else {
                throw ConfigurationError(variable: "JWT_PREVIOUS_SECRET_KEYS", problem: "repeats the key id \(keyID)")
            }
            let secret = parts[1].trimmingWhitespace()
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError(variable: "JWT_PREVIOUS_SECRET_KEYS", problem: "has a secret under 32 bytes (key id \(keyID))")
            }
            keys[keyID] = Array(secret.utf8)
        }
        return keys
    }

    struct Reader {
        let environment: [String: String]

        func required(_ name: String) throws(ConfigurationError) -> String {
            guard let value = environment[name], !value.isEmpty else { throw ConfigurationError(variable: name, problem: "is required") }
            return value
        }

        func string(_ name: String, default fallback: String) -> String {
            guard let value = environment[name], !value.isEmpty else { return fallback }
            return value
        }

        /// Unset: `fallback`; set empty: nil.
        func emptyMeansNone(_ name: String, default fallback: String) -> String? {
            guard let value = environment[name] else { return fallback }
            return value.isEmpty ? nil : value
        }

        func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let text = environment[name], !text.isEmpty else { return fallback }
            guard let value = Int(text), range.contains(value) else {
                throw ConfigurationError(variable: name, problem: "must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }

        func boolean(_ name: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
            guard let text = environment[name]?.lowercased(), !text.isEmpty else { return fallback }
            switch text {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ConfigurationError(variable: name, problem: "must be true or false")
            }
        }
    }
}

/// A configuration problem, printed as one line that names the variable and never its value.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let variable: String
    public let problem: String
    public var description: String { "configuration error: \(variable) \(problem)" }
}
