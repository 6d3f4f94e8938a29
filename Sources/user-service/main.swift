import FastCGIServer
import HTTP
import Postgres
import UserService

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: user-service serve [--listen unix:PATH|HOST:PORT] [--listen-password unix:PATH|HOST:PORT]
                              [--socket-mode OCTAL] [--env-file PATH]
           user-service migrate [--status] [--env-file PATH]
           user-service cleanup [--env-file PATH]
           user-service mailer [--env-file PATH]
           user-service routes --nginx|--json
           user-service keys generate --out FILE [--algorithm EdDSA|ES256]
           user-service users create-admin|promote|demote|activate|deactivate|verify|unverify|revoke-sessions|show EMAIL
           user-service users list|export|import ...   (user-service users --help)
           user-service version

    serve     run the FastCGI pool: a master and WORKERS worker processes. The socket comes from systemd
              socket activation, from fd 0 (the FastCGI convention), or from --listen. With a second socket
              (--listen-password, or a second systemd socket), PASSWORD_WORKERS workers serve it: nginx sends
              the bcrypt-bound endpoints there, so logins never delay other requests.
    migrate   apply pending migrations from MIGRATIONS_DIR (--status: list applied and pending ones)
    cleanup   delete expired and revoked sessions, used tokens, stale throttle counters, old security events,
              and mail sent, given up or dropped more than MAIL_RETENTION_DAYS ago
    mailer    send the mail outbox through the SMTP relay (SMTP_HOST, MAIL_FROM, PUBLIC_BASE_URL required) until
              SIGTERM: wakes on LISTEN/NOTIFY, retries with backoff; several may run at once
    users     administration on the database host: accounts and administrators, export and import of accounts
              with their password hashes (see user-service users --help). Reads the configuration as cleanup does.
    keys      generate a signing key pair for JWT_PRIVATE_KEY_FILE: the private key in FILE (0600, never over an
              existing file), the public key in FILE.pub; prints the key id (its RFC 7638 thumbprint)
    routes    print the route table: --nginx as the http-level nginx maps (workers, rate-limit group, private
              paths, no-store; scripts/render-nginx writes them), --json as one object per route. Reads no
              configuration.
    """

var arguments = CommandLine.arguments.dropFirst()
let command = arguments.popFirst() ?? "--help"

/// Reads `--name VALUE` options; unknown options are an error.
func options(_ arguments: inout ArraySlice<String>, _ allowed: Set<String>, flags: Set<String> = []) -> [String: String] {
    var values: [String: String] = [:]
    while let name = arguments.popFirst() {
        if flags.contains(name) { values[name] = "" ; continue }
        guard allowed.contains(name), let value = arguments.popFirst() else { fail("unknown or incomplete option \(name)\n\(usage)") }
        values[name] = value
    }
    return values
}

/// The process environment with the env file over it.
func loadEnvironment(_ file: String?) -> [String: String] {
    do {
        return try Environment.load(Environment.process(), file: file)
    } catch {
        fail("\(error)")
    }
}

/// MIGRATION_DATABASE_URL (the schema owner's credentials) never comes from an env file: only migrate reads it,
/// from its own process environment (systemd's EnvironmentFile=migrate.env). Set in the file, even empty, it would
/// sit where the pool's group can read it, or silently override migrate.env: refused.
func refuseMigrationURL(in file: String?, _ command: String) {
    guard let file else { return }
    do { try MigrationURLInEnvFile.check(file, command: command) } catch { fail("\(error)") }
}

func fail(_ message: String) -> Never {
    Log.write("user-service: \(message)")
    exit(2)
}

switch command {
case "serve":
    let values = options(&arguments, ["--listen", "--listen-password", "--socket-mode", "--env-file"])
    func address(_ option: String) -> ListenAddress? {
        guard let text = values[option] else { return nil }
        guard let parsed = ListenAddress(text) else { fail("\(option) takes unix:PATH or HOST:PORT") }
        return parsed
    }
    guard let mode = UInt32(values["--socket-mode"] ?? "660", radix: 8) else { fail("--socket-mode takes an octal mode such as 660") }
    refuseMigrationURL(in: values["--env-file"], "serve")
    exit(PoolMaster.run(ServeOptions(listen: address("--listen"), listenPassword: address("--listen-password"), socketMode: mode),
                        application: ServedUserService.make(environmentFile: values["--env-file"])))

case "worker":
    guard let metrics = WorkerMetrics(options: options(&arguments, WorkerMetrics.options)) else {
        fail("worker is started by `serve`, which passes \(WorkerMetrics.options.sorted().joined(separator: ", "))")
    }
    Worker.run(environment: Environment.process(), metrics: metrics, application: ServedUserService.make(environmentFile: nil))

case "migrate":
    let values = options(&arguments, ["--env-file"], flags: ["--status"])
    refuseMigrationURL(in: values["--env-file"], "migrate")
    exit(MigrateCommand.run(environment: loadEnvironment(values["--env-file"]), statusOnly: values["--status"] != nil))

case "cleanup":
    let values = options(&arguments, ["--env-file"])
    exit(CleanupCommand.run(environment: loadEnvironment(values["--env-file"])))

case "mailer":
    let values = options(&arguments, ["--env-file"])
    refuseMigrationURL(in: values["--env-file"], "mailer")
    exit(MailerCommand.run(environment: loadEnvironment(values["--env-file"])))

case "users":
    exit(UsersCommand.run(arguments))

case "keys":
    exit(KeysCommand.run(arguments))

case "routes":
    let values = options(&arguments, [], flags: ["--nginx", "--json"])
    guard values.count == 1 else { fail("routes takes --nginx or --json\n\(usage)") }
    if values["--nginx"] != nil { print(NginxRouteMaps.render(), terminator: "") } else { print(RouteList.json()) }

case "version", "--version":
    print("\(ServiceVersion.name) \(ServiceVersion.version)")

case "--help", "-h", "help":
    print(usage)

default:
    fail("unknown command \(command)\n\(usage)")
}
