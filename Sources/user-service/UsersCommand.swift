import HTTP
import Postgres
import UserService

#if canImport(Glibc)
import Glibc
#endif

/// `user-service users ...`: administration from the database host, on the database the pool uses (the environment,
/// with `--env-file` over it, as `migrate` and `cleanup` read it). The actions are `AccountAdministration`'s (the
/// administration API's `AdminRepository`, by email); export and import are in `UsersCommand+Transfer.swift`. Output goes to standard output, one-line errors to standard error;
/// no password or hash is ever printed or taken from the command line.
enum UsersCommand {
    static let usage = """
        usage: user-service users create-admin EMAIL [--username NAME]   (password: prompted twice on a terminal,
                                                                          else two lines on standard input)
               user-service users promote|demote|activate|deactivate|verify|unverify|revoke-sessions EMAIL
               user-service users list [--admins] [--limit N]
               user-service users show EMAIL
               user-service users export [--output FILE]
               user-service users import FILE|- [--with-roles]
               (each takes --env-file PATH)
        """

    /// A usage or input mistake: exit 2.
    struct UsageError: Error { let message: String }

    /// The parsed arguments: positionals, `--name VALUE` options, flags.
    struct Arguments {
        var positionals: [String] = []
        var values: [String: String] = [:]
        var flags: Set<String> = []

        init(_ arguments: ArraySlice<String>, options: Set<String>, flags allowedFlags: Set<String>) throws(UsageError) {
            var rest = arguments
            while let argument = rest.popFirst() {
                if allowedFlags.contains(argument) {
                    flags.insert(argument)
                } else if options.contains(argument) {
                    guard let value = rest.popFirst() else { throw UsageError(message: "\(argument) needs a value") }
                    values[argument] = value
                } else if argument.hasPrefix("--") {
                    throw UsageError(message: "unknown option \(argument)")
                } else {
                    positionals.append(argument)
                }
            }
        }
    }

    static func run(_ arguments: ArraySlice<String>) -> Int32 {
        var arguments = arguments
        let action = arguments.popFirst() ?? "--help"
        do {
            switch action {
            case "create-admin":
                let parsed = try Arguments(arguments, options: ["--env-file", "--username"], flags: [])
                return try withAdministration(parsed, action) { try createAdmin(parsed, $0, $1) }
            case "list":
                let parsed = try Arguments(arguments, options: ["--env-file", "--limit"], flags: ["--admins"])
                guard parsed.positionals.isEmpty else { throw UsageError(message: "list takes no EMAIL") }
                guard let limit = Int(parsed.values["--limit"] ?? "1000"), limit > 0 else { throw UsageError(message: "--limit takes a positive number") }
                return try withAdministration(parsed, action) { administration, _ in
                    let accounts = try administration.list(administratorsOnly: parsed.flags.contains("--admins"), limit: limit)
                    print(pad(["EMAIL", "USERNAME", "ACTIVE", "VERIFIED", "ADMIN", "PREMIUM", "CREATED"]))
                    for account in accounts {
                        print(pad([account.email, account.username, yesNo(account.isActive), yesNo(account.isVerified), yesNo(account.isAdmin),
                                   yesNo(account.isPremium), account.createdAt.iso8601]))
                    }
                }
            case "show":
                let parsed = try Arguments(arguments, options: ["--env-file"], flags: [])
                let email = try singleEmail(parsed, action)
                return try withAdministration(parsed, action) { administration, _ in
                    guard let account = try administration.find(email: email) else { throw AccountAdministration.Failure.noSuchAccount }
                    describe(account, liveSessions: try administration.liveSessions(userID: account.id))
                    let events = try administration.recentEvents(userID: account.id, limit: 10)
                    print("recent events:" + (events.isEmpty ? " none" : ""))
                    for event in events {
                        print("  \(event.createdAt.iso8601)  \(event.type)" + (event.actorID.map { "  by \($0)" } ?? "")
                              + (event.ipAddress.map { "  from \($0)" } ?? ""))
                    }
                }
            case "export":
                return try exportAccounts(try Arguments(arguments, options: ["--env-file", "--output"], flags: []))
            case "import":
                return try importAccounts(try Arguments(arguments, options: ["--env-file"], flags: ["--with-roles"]))
            case "--help", "-h", "help":
                print(usage)
                return 0
            default:
                guard let change = AccountAdministration.Action(rawValue: action) else { throw UsageError(message: "unknown users command \(action)") }
                let parsed = try Arguments(arguments, options: ["--env-file"], flags: [])
                let email = try singleEmail(parsed, action)
                return try withAdministration(parsed, action) { administration, _ in
                    let outcome = try administration.perform(change, email: email)
                    print(summary(change, outcome))
                }
            }
        } catch let error as UsageError {
            Log.write("user-service: users: \(error.message)\n\(usage)")
            return 2
        } catch {
            Log.write("user-service: users \(action) failed: \(error)")
            return 1
        }
    }

    static func singleEmail(_ parsed: Arguments, _ action: String) throws(UsageError) -> String {
        guard parsed.positionals.count == 1 else { throw UsageError(message: "\(action) takes one EMAIL") }
        return parsed.positionals[0]
    }

    /// The configuration (environment and `--env-file`) and a connection, then `body`; exit 1 with one line on failure.
    static func withAdministration(_ parsed: Arguments, _ action: String,
                                   _ body: (AccountAdministration, Configuration) throws -> Void) throws -> Int32 {
        refuseMigrationURL(in: parsed.values["--env-file"], "users")
        let environment = loadEnvironment(parsed.values["--env-file"])
        return runReportingFailure("users \(action)") {
            let configuration = try Configuration.load(from: environment, defaultWorkers: 1)
            let database = Database(connectionOptions(configuration, statementTimeout: nil))
            try database.withConnection { _ in }  // connected before anything is asked or done
            do {
                try body(AccountAdministration(database: database), configuration)
            } catch let failure as AccountAdministration.Failure {
                throw CommandMessage(text: failure.description)
            }
        }
    }

    /// An error whose description is the whole message.
    struct CommandMessage: Error, CustomStringConvertible { let text: String; var description: String { text } }

    static func connect(_ environment: [String: String], statementTimeout: Int?) throws -> (PostgresConnection, Configuration) {
        let configuration = try Configuration.load(from: environment, defaultWorkers: 1)
        return (try PostgresConnection(connectionOptions(configuration, statementTimeout: statementTimeout)), configuration)
    }

    static func connectionOptions(_ configuration: Configuration, statementTimeout: Int?) -> ConnectionOptions {
        configuration.connectionOptions(applicationName: "user-service-users", statementTimeoutMilliseconds: statementTimeout)
    }

    static func createAdmin(_ parsed: Arguments, _ administration: AccountAdministration, _ configuration: Configuration) throws {
        guard parsed.positionals.count == 1 else { throw CommandMessage(text: "create-admin takes one EMAIL") }
        let email = parsed.positionals[0]
        let username = parsed.values["--username"] ?? AccountAdministration.username(fromEmail: email)
        guard let password = PasswordInput.read(prompt: "Password for \(email): "),
              let confirmation = PasswordInput.read(prompt: "Repeat the password: ") else {
            throw CommandMessage(text: "no password given (a terminal prompt, or two lines on standard input)")
        }
        guard password == confirmation else { throw CommandMessage(text: "the passwords do not match") }
        let account = try administration.createAdministrator(email: email, username: username, password: password,
                                                             policy: configuration.passwordPolicy, bcryptCost: configuration.bcryptRounds)
        print("created administrator \(account.email) (username \(account.username), id \(account.id))")
    }

    static func summary(_ action: AccountAdministration.Action, _ outcome: AccountAdministration.Outcome) -> String {
        let email = outcome.account.email
        let revoked = outcome.sessionsRevoked == 1 ? "1 session revoked" : "\(outcome.sessionsRevoked) sessions revoked"
        switch action {
        case .revokeSessions: return "\(email): \(revoked)"
        case .deactivate: return "\(email): " + (outcome.changed ? "deactivated, \(revoked)" : "already inactive")
        default:
            let state = switch action {
            case .promote: "an administrator"
            case .demote: "not an administrator"
            case .activate: "active"
            case .verify: "verified"
            default: "unverified"
            }
            return "\(email): " + (outcome.changed ? "now \(state)" : "already \(state) (nothing changed)")
        }
    }

    static func describe(_ account: AccountAdministration.Account, liveSessions: Int) {
        let premium = account.isPremium ? "yes (\(account.premiumPlan ?? "?") until \(account.premiumExpiresAt?.iso8601 ?? "?"))" : "no"
        for (name, value) in [("id", account.id), ("email", account.email), ("username", account.username),
                              ("full name", account.fullName ?? "-"), ("active", yesNo(account.isActive)),
                              ("verified", yesNo(account.isVerified)), ("administrator", yesNo(account.isAdmin)),
                              ("premium", premium), ("created", account.createdAt.iso8601),
                              ("last login", account.lastLogin?.iso8601 ?? "never"), ("live sessions", String(liveSessions))] {
            print(name + ":" + String(repeating: " ", count: 15 - name.count) + value)
        }
    }

    static func yesNo(_ flag: Bool) -> String { flag ? "yes" : "no" }

    static func pad(_ columns: [String]) -> String {
        let widths = [32, 20, 7, 9, 6, 8, 0]
        return zip(columns, widths).map { text, width in text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
            .joined().trimmingWhitespace()
    }
}

/// A password from a terminal without echo, or one line of a pipe. Ctrl-C (or a TERM) at the prompt puts the
/// terminal's settings back before the command ends with the shell's status for the signal (130 for Ctrl-C): the
/// operator's shell never keeps a terminal that does not echo.
enum PasswordInput {
    static func read(prompt: String) -> String? {
        guard isatty(0) == 1 else { return readLine(strippingNewline: true) }
        var saved = termios()
        guard tcgetattr(0, &saved) == 0 else { return readLine(strippingNewline: true) }
        terminalBeforePrompt = saved
        let previous = [SIGINT, SIGTERM].map { ($0, signal($0, restoreTerminalAndExit)) }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        writeStandardError(prompt)
        _ = tcsetattr(0, TCSAFLUSH, &quiet)
        defer {
            _ = tcsetattr(0, TCSAFLUSH, &saved)
            for (number, handler) in previous { _ = signal(number, handler) }
            writeStandardError("\n")
        }
        return readLine(strippingNewline: true)
    }
}

/// The terminal's settings from before a prompt turned echo off, for `restoreTerminalAndExit` (a signal handler
/// takes no context). Written before the handler is installed, and only read while it is.
nonisolated(unsafe) private var terminalBeforePrompt = termios()

/// A signal handler: only async-signal-safe calls (tcsetattr, write, _exit).
private let restoreTerminalAndExit: @convention(c) (Int32) -> Void = { number in
    _ = tcsetattr(0, TCSANOW, &terminalBeforePrompt)
    var newline: UInt8 = 0x0A
    _ = write(2, &newline, 1)
    _exit(128 + number)
}
