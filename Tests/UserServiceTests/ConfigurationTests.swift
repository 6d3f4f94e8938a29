import HTTP
import Testing
@testable import UserService

@Suite struct ConfigurationTests {
    let secret = String(repeating: "s", count: 32)
    var minimal: [String: String] { ["DATABASE_URL": "postgresql://u:hunter2@db/x", "JWT_SECRET_KEY": secret] }

    @Test func defaultsFollowTheSeed() throws {
        let configuration = try Configuration.load(from: minimal, defaultWorkers: 3)
        #expect(configuration.accessTokenExpireMinutes == 30)
        #expect(configuration.refreshTokenExpireDays == 7)
        #expect(configuration.bcryptRounds == 12)
        #expect(configuration.workers == 3)
        #expect(configuration.warnings.isEmpty)
    }

    /// The error for `minimal` with `name` set to `value`.
    func refusal(_ name: String, _ value: String) -> ConfigurationError? {
        var environment = minimal
        environment[name] = value
        do {
            _ = try Configuration.load(from: environment, defaultWorkers: 1)
            return nil
        } catch {
            return error
        }
    }

    @Test func shortSecretIsRefusedWithoutEchoingIt() throws {
        let error = try #require(refusal("JWT_SECRET_KEY", "tooshort-but-secret"))
        #expect(error.variable == "JWT_SECRET_KEY")
        #expect(!error.description.contains("tooshort"))
    }

    @Test func missingAndMalformedVariablesAreNamed() throws {
        #expect(throws: ConfigurationError(variable: "DATABASE_URL", problem: "is required")) {
            _ = try Configuration.load(from: ["JWT_SECRET_KEY": secret], defaultWorkers: 1)
        }
        #expect(try #require(refusal("WORKERS", "lots")).description == "configuration error: WORKERS must be an integer from 1 to 256")
        #expect(refusal("BCRYPT_ROUNDS", "3")?.variable == "BCRYPT_ROUNDS")
        #expect(refusal("BCRYPT_ROUNDS", "17")?.variable == "BCRYPT_ROUNDS")
    }

    @Test func mailFlowSettings() throws {
        let defaults = try Configuration.load(from: minimal, defaultWorkers: 1)
        #expect(defaults.passwordResetExpireMinutes == 60 && defaults.emailVerificationExpireHours == 48)
        #expect(defaults.passwordResetMaxPerHour == 3 && defaults.verifyEmailMaxPerHour == 3 && defaults.changeEmailMaxPerHour == 5)
        #expect(defaults.emailVerificationOnRegister && !defaults.requireVerifiedEmail)
        var environment = minimal
        environment.merge(["PASSWORD_RESET_EXPIRE_MINUTES": "15", "EMAIL_VERIFICATION_EXPIRE_HOURS": "24", "PASSWORD_RESET_MAX_PER_HOUR": "5",
                           "EMAIL_VERIFICATION_ON_REGISTER": "off", "REQUIRE_VERIFIED_EMAIL": "yes", "VERIFY_EMAIL_MAX_PER_HOUR": "7",
                           "CHANGE_EMAIL_MAX_PER_HOUR": "8"]) { $1 }
        let set = try Configuration.load(from: environment, defaultWorkers: 1)
        #expect(set.passwordResetExpireMinutes == 15 && set.emailVerificationExpireHours == 24 && set.passwordResetMaxPerHour == 5)
        #expect(!set.emailVerificationOnRegister && set.requireVerifiedEmail)
        #expect(set.verifyEmailMaxPerHour == 7 && set.changeEmailMaxPerHour == 8)
        #expect(refusal("VERIFY_EMAIL_MAX_PER_HOUR", "0")?.variable == "VERIFY_EMAIL_MAX_PER_HOUR")
        #expect(refusal("CHANGE_EMAIL_MAX_PER_HOUR", "101")?.variable == "CHANGE_EMAIL_MAX_PER_HOUR")
        #expect(refusal("PASSWORD_RESET_MAX_PER_HOUR", "0")?.variable == "PASSWORD_RESET_MAX_PER_HOUR")
        #expect(refusal("REQUIRE_VERIFIED_EMAIL", "maybe")?.variable == "REQUIRE_VERIFIED_EMAIL")
    }

    @Test func theSessionCacheIsRefusedBehindATransactionModePooler() throws {
        var environment = minimal
        environment["DB_STARTUP_OPTIONS"] = "false"
        #expect(throws: ConfigurationError(variable: "SESSION_CACHE_SECONDS", problem: "must be 0 with DB_STARTUP_OPTIONS=false "
                                           + "(behind a transaction-mode pooler the session cache would miss revocations)")) {
            try Configuration.load(from: environment, defaultWorkers: 1)
        }
        environment["SESSION_CACHE_SECONDS"] = "0"
        #expect(try Configuration.load(from: environment, defaultWorkers: 1).warnings.isEmpty)
    }

    @Test func aReloadThatTurnsTheSessionCacheOnOrOffIsRefused() throws {
        func configuration(_ seconds: String) throws -> Configuration {
            var environment = minimal
            environment["SESSION_CACHE_SECONDS"] = seconds
            return try Configuration.load(from: environment, defaultWorkers: 1)
        }
        let restartOnly = RestartOnlySettings()
        try restartOnly.check(configuration("1"))  // at start
        try restartOnly.check(configuration("30"))  // another lifetime: a reload takes it
        #expect(throws: ConfigurationError(variable: "SESSION_CACHE_SECONDS", problem: "turns the session cache off: "
                                           + "restart the service (a reload cannot turn the session cache on or off)")) {
            try restartOnly.check(configuration("0"))
        }
        let off = RestartOnlySettings()
        try off.check(configuration("0"))
        #expect(throws: ConfigurationError.self) { try off.check(configuration("1")) }
    }

    @Test func poolSizeVariablesAreAcceptedWithAWarning() throws {
        var environment = minimal
        environment["DB_POOL_SIZE"] = "10"
        environment["DB_MAX_OVERFLOW"] = "20"
        let configuration = try Configuration.load(from: environment, defaultWorkers: 1)
        #expect(configuration.warnings.count == 2)
        #expect(configuration.warnings[0].contains("DB_POOL_SIZE"))
    }

    @Test func environmentFileFormat() throws {
        let text = """
            # comment
            ; also a comment
            A=1
              B = two words  
            C="quoted \\"value\\""
            D='single $quoted'
            E=continued \\
            line
            EMPTY=
            """
        let values = try EnvironmentFile.parse(text)
        #expect(values == ["A": "1", "B": "two words", "C": "quoted \"value\"", "D": "single $quoted", "E": "continued line", "EMPTY": ""])
        #expect(throws: EnvironmentFile.Failure.self) { try EnvironmentFile.parse("JUST TEXT") }
        #expect(throws: EnvironmentFile.Failure.self) { try EnvironmentFile.parse("A=\"open") }
    }

    /// Cleanup deleting used refresh tokens before they expire would blind reuse detection.
    @Test func retentionShorterThanRefreshLifetimeIsRefused() throws {
        #expect(refusal("CLEANUP_RETENTION_DAYS", "6")?.variable == "CLEANUP_RETENTION_DAYS")
        var environment = minimal
        environment["CLEANUP_RETENTION_DAYS"] = "3"
        environment["REFRESH_TOKEN_EXPIRE_DAYS"] = "3"
        #expect(try Configuration.load(from: environment, defaultWorkers: 1).cleanupRetentionDays == 3)
    }

    @Test func hardeningLimitsHaveDefaults() throws {
        let configuration = try Configuration.load(from: minimal, defaultWorkers: 1)
        #expect(configuration.maxJSONMembers == 10_000)
        #expect(configuration.changePasswordMaxPerHour == 5)
        #expect(configuration.jwtAudience == "user-service" && configuration.jwtIssuer == "user-service")
        #expect(refusal("MAX_JSON_MEMBERS", "0")?.variable == "MAX_JSON_MEMBERS")
        #expect(refusal("CHANGE_PASSWORD_MAX_PER_HOUR", "0")?.variable == "CHANGE_PASSWORD_MAX_PER_HOUR")
    }
}

@Suite struct KeyRotationConfigurationTests {
    let base = ["DATABASE_URL": "x", "JWT_SECRET_KEY": String(repeating: "n", count: 32), "JWT_KEY_ID": "2"]

    @Test func previousKeysAreReadByKeyID() throws {
        var environment = base
        environment["JWT_PREVIOUS_SECRET_KEYS"] = "1:\(String(repeating: "o", count: 32)), 0:\(String(repeating: "p", count: 40))"
        let configuration = try Configuration.load(from: environment, defaultWorkers: 1)
        #expect(configuration.jwtPreviousKeys["1"] == Array(String(repeating: "o", count: 32).utf8))
        #expect(configuration.jwtPreviousKeys.count == 2)
        let tokens = try AccessTokens(configuration: configuration)
        #expect(tokens.signingKey.id == "2" && tokens.keys.count == 3)
    }

    @Test func badPreviousKeysAreRefusedWithoutEchoingThem() {
        for value in ["nocolon", "1:short-secret", "2:\(String(repeating: "o", count: 32))", "1:\(String(repeating: "o", count: 32)),1:\(String(repeating: "q", count: 32))"] {
            var environment = base
            environment["JWT_PREVIOUS_SECRET_KEYS"] = value
            do {
                _ = try Configuration.load(from: environment, defaultWorkers: 1)
                Issue.record("accepted \(value)")
            } catch {
                #expect(error.variable == "JWT_PREVIOUS_SECRET_KEYS")
                #expect(!error.description.contains("short-secret") && !error.description.contains("oooo"))
            }
        }
    }
}
