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

    @Test func shortSecretIsRefusedWithoutEchoingIt() {
        var environment = minimal
        environment["JWT_SECRET_KEY"] = "tooshort-but-secret"
        do {
            _ = try Configuration.load(from: environment, defaultWorkers: 1)
            Issue.record("accepted")
        } catch {
            #expect(error.variable == "JWT_SECRET_KEY")
            #expect(!error.description.contains("tooshort"))
        }
    }

    @Test func missingAndMalformedVariablesAreNamed() {
        #expect(throws: ConfigurationError(variable: "DATABASE_URL", problem: "is required")) {
            _ = try Configuration.load(from: ["JWT_SECRET_KEY": secret], defaultWorkers: 1)
        }
        var environment = minimal
        environment["WORKERS"] = "lots"
        do {
            _ = try Configuration.load(from: environment, defaultWorkers: 1)
            Issue.record("accepted")
        } catch {
            #expect(error.description == "configuration error: WORKERS must be an integer from 1 to 256")
        }
        environment = minimal
        environment["BCRYPT_ROUNDS"] = "3"
        #expect(throws: ConfigurationError.self) { _ = try Configuration.load(from: environment, defaultWorkers: 1) }
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
}
