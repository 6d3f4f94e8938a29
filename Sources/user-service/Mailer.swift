import FastCGIServer
import HTTP
import Postgres
import UserService

#if canImport(Glibc)
import Glibc
#endif

/// `user-service mailer`: sends the outbox. One connection that LISTENs on `mail_outbox`; between rounds it waits
/// on that socket and on a signalfd, for at most the time until the next retry is due or `pollSeconds`
/// (`MAIL_POLL_SECONDS`, the safety net should a notification be missed), and at least `minimumPauseSeconds` after a
/// round that leased nothing. A lost connection is opened again with a growing delay, and LISTENs again. SIGTERM or
/// SIGINT: the mail being sent is finished and marked, the rest of its batch released, and the process exits 0.
final class Mailer {
    static let channel = "mail_outbox"
    static let maximumReconnectDelaySeconds = 30
    /// A mail that is due but locked (a long transaction holds its row, which the lease skips) would otherwise make
    /// the mailer lease nothing, hear "due now" and go round again at once, without end.
    static let minimumPauseSeconds = 1.0

    private let courier: MailCourier
    private let options: ConnectionOptions
    private let signals: Int32
    private let pollSeconds: Double
    private var stopping = false

    init(courier: MailCourier, options: ConnectionOptions, signals: Int32, pollSeconds: Int) {
        self.courier = courier
        self.options = options
        self.signals = signals
        self.pollSeconds = Double(pollSeconds)
    }

    func run() {
        var connection: PostgresConnection?
        var reconnectDelay = 1
        while !stopping {
            do {
                let current: PostgresConnection
                if let connection { current = connection } else {
                    current = try PostgresConnection(options)
                    current.detectDeadPeer()
                    try current.listen(Self.channel)
                    connection = current
                    reconnectDelay = 1
                    Log.write("mailer: ready, listening for mail")
                }
                try deliverAndWait(current)
            } catch {
                connection = nil
                let reason = (error as? PostgresError).map { error in
                    error.isUnavailable ? "database unavailable: \(error.serverMessage.split(separator: "\n").first ?? "")" : "\(error)"
                } ?? "\(error)"
                Log.write("mailer: \(reason); connecting again in \(reconnectDelay) s")
                waitForSignal(seconds: Double(reconnectDelay))
                reconnectDelay = min(reconnectDelay * 2, Self.maximumReconnectDelaySeconds)
            }
        }
        writeLastMarks(connection)
        Log.write("mailer: stopped")
    }

    /// One round, then, when it leased nothing, a wait until the next mail is due (a notification that came in
    /// meanwhile: none). A round that leased mail is followed by another at once: more may be due.
    private func deliverAndWait(_ connection: PostgresConnection) throws {
        let round = try courier.deliverDue(on: connection) { receiveSignals() }
        guard !stopping, round.leased == 0 else { return }
        let due = try courier.secondsUntilDue(on: connection)
        // Notifications libpq read during the round's statements sit in its buffer, where poll cannot see them.
        guard try connection.receiveNotifications().isEmpty else { return }
        let timeout = min(max(due ?? pollSeconds, Self.minimumPauseSeconds), pollSeconds)
        let readable = SystemCalls.poll([connection.socket, signals], timeoutMilliseconds: Int32(timeout * 1000) + 1)
        if readable.contains(signals) { _ = receiveSignals() }
        if readable.contains(connection.socket) { _ = try connection.receiveNotifications() }
    }

    /// True once SIGTERM or SIGINT has arrived.
    private func receiveSignals() -> Bool {
        if SystemCalls.readSignals(signals).contains(where: { $0 == SIGTERM || $0 == SIGINT }) {
            if !stopping { Log.write("mailer: stopping (the mail being sent is finished first)") }
            stopping = true
        }
        return stopping
    }

    private func waitForSignal(seconds: Double) {
        if !SystemCalls.poll([signals], timeoutMilliseconds: Int32(seconds * 1000)).isEmpty { _ = receiveSignals() }
    }

    /// On the way out: marks the database could not take, tried once more on a fresh connection if need be.
    private func writeLastMarks(_ connection: PostgresConnection?) {
        guard courier.unmarkedCount > 0 else { return }
        do {
            try courier.writeMarks(try connection ?? PostgresConnection(options))
        } catch {
            Log.write("mailer: \(courier.unmarkedCount) sent or failed mails could not be marked (\(error)): they will be tried again")
        }
    }
}

/// Reads the configuration, refuses to start without what delivery needs (one line naming it), then runs.
enum MailerCommand {
    static func run(environment: [String: String]) -> Int32 {
        runReportingFailure("mailer") {
            let configuration = try Configuration.load(from: environment, defaultWorkers: 1)
            let courier = try MailCourier(settings: configuration.mail, statementTimeoutMilliseconds: configuration.dbStatementTimeoutMilliseconds)
            // A relay that closes the connection must not kill the process: libcurl leaves SIGPIPE to us (NOSIGNAL).
            signal(SIGPIPE, SIG_IGN)
            let signals = try SystemCalls.blockedSignalFD([SIGTERM, SIGINT])
            var options = configuration.connectionOptions(applicationName: "user-service-mailer")
            // LISTEN needs a session of its own: where DATABASE_URL goes through a transaction-mode PgBouncer, the
            // mailer connects to PostgreSQL directly with MAILER_DATABASE_URL (set in the same env file: the pool
            // does not read it).
            if let url = environment["MAILER_DATABASE_URL"], !url.isEmpty { options.url = url }
            Log.write("mailer: starting: \(courier.relayDescription)")
            Mailer(courier: courier, options: options, signals: signals, pollSeconds: configuration.mail.pollSeconds).run()
        }
    }
}
