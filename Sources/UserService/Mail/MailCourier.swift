import HTTP
public import Postgres
import SMTP

/// Delivers the outbox's due mail, one round at a time, for `user-service mailer` (which waits between rounds and
/// owns the connection): drop what expired, lease a batch, send each mail outside any transaction, mark it.
///
/// A mark that cannot be written because the database went away is kept, with the lease it belongs to, and written
/// first in the next round on the new connection; the rest of that batch is released then. A failed mark (and a
/// release) applies only while the mail's lease is still the one this mailer took, so a late one never reopens a
/// mail another mailer holds. A sent mark is always written. Delivery is at-least-once with the same `Message-ID`:
/// a mail is sent again only when its mailer dies between the relay's acceptance and the mark, or loses the database
/// for longer than the rest of the lease (another mailer then takes the mail, still unmarked).
public final class MailCourier {
    /// Mails leased per round: a round that leased this many may have left more due.
    public static let batchSizeLimit = 10
    /// Added to every lease.
    static let leaseMarginSeconds = 30
    /// Permanent (5xx) refusals of one mail after which it is given up; 4xx replies and failed connections are
    /// retried until the last attempt.
    public static let maximumRejections = 3

    private let client: SMTPClient
    private let composer: MailComposer
    private let sender: MailAddress
    private let retry: RetrySchedule
    private let timeoutSeconds: Int
    /// Added to the SMTP timeout for each mail's place in a lease: the time its mark may take (one statement).
    private let markAllowanceSeconds: Int
    /// The relay, the sender and the templates, for the start-up line (no password).
    public let relayDescription: String
    /// Marks the database could not take (it went away after the send), with the leases they end.
    private var unmarked: [(mail: MailQueue.LeasedMail, outcome: Outcome)] = []
    /// A batch's unsent mails that could not be released for the same reason.
    private var unreleased: [MailQueue.LeasedMail] = []

    enum Outcome {
        case sent
        case failed(String, retryAfterSeconds: Int?, rejected: Bool)
    }

    /// What a round did.
    public struct Round: Equatable {
        public var leased = 0
        public var sent = 0
        public var failed = 0
        public var expired = 0
    }

    /// Checks the settings a delivery needs and reads the templates; errors name the variable or the file.
    /// `statementTimeoutMilliseconds`: the database's bound on one mark.
    public init(settings: MailSettings, statementTimeoutMilliseconds: Int) throws {
        let delivery = try settings.delivery()
        if let caFile = delivery.relay.caFile, FileReader.readBytes(caFile) == nil {
            throw ConfigurationError(variable: "SMTP_CA_FILE", problem: "cannot be read")
        }
        composer = MailComposer(templates: try MailTemplates.load(directory: settings.templatesDirectory),
                                from: delivery.from, publicBaseURL: delivery.publicBaseURL)
        client = try SMTPClient(relay: delivery.relay)
        sender = delivery.from
        retry = settings.retry
        timeoutSeconds = delivery.relay.timeoutSeconds
        markAllowanceSeconds = max(10, (statementTimeoutMilliseconds + 999) / 1000 + 5)
        relayDescription = "relay \(delivery.relay.url)\(delivery.relay.unixSocket.map { " via \($0)" } ?? "") (\(delivery.relay.security.rawValue)\(delivery.relay.credentials.map { ", login \($0.username)" } ?? "")),"
            + " from \(delivery.from.address), links to \(delivery.publicBaseURL), templates in \(settings.templatesDirectory)"
    }

    /// One round. `stopRequested` is asked before each mail: when it says yes, the rest of the batch is released
    /// unsent (its attempts not counted) and the round ends.
    public func deliverDue(on connection: PostgresConnection, stopRequested: () -> Bool) throws -> Round {
        var round = Round()
        if !unmarked.isEmpty || !unreleased.isEmpty {
            let (marks, releases) = (unmarked.count, unreleased.count)
            try writeMarks(connection)
            Log.write("mailer: wrote \(marks) marks and \(releases) releases that the lost database connection had deferred")
        }
        round.expired = try MailQueue.dropExpired(connection, limit: 1000)
        if round.expired > 0 { Log.write("mailer: dropped \(round.expired) mails whose token expired before they could be sent") }
        let started = Clock.nanoseconds()
        let batch = try MailQueue.lease(connection, limit: Self.batchSizeLimit, slotSeconds: timeoutSeconds + markAllowanceSeconds,
                                        marginSeconds: Self.leaseMarginSeconds)
        round.leased = batch.count
        for (index, mail) in batch.enumerated() {
            // A mail is sent only while its lease outlasts the whole exchange, so no other mailer can take it meanwhile.
            let elapsed = Int((Clock.nanoseconds() - started) / 1_000_000_000)
            if stopRequested() || elapsed + timeoutSeconds + markAllowanceSeconds > mail.leaseSeconds {
                unreleased += batch[index...]
                break
            }
            let outcome = send(mail)
            if case .sent = outcome { round.sent += 1 } else { round.failed += 1 }
            unmarked.append((mail, outcome))
            do {
                try writeMarks(connection)
            } catch {
                unreleased += batch[(index + 1)...]
                throw error
            }
        }
        try writeMarks(connection)
        return round
    }

    /// Seconds until the next pending mail is due; nil when none is pending.
    public func secondsUntilDue(on connection: PostgresConnection) throws -> Double? {
        try MailQueue.secondsUntilDue(connection)
    }

    /// Marks and releases not yet written (the database went away).
    public var unmarkedCount: Int { unmarked.count + unreleased.count }

    private func send(_ mail: MailQueue.LeasedMail) -> Outcome {
        let message: MailMessage
        do {
            message = try composer.message(for: mail, at: PostgresTimestamp(microsecondsSinceEpoch: Clock.unixSeconds() * 1_000_000))
        } catch {
            Log.write("mailer: \(mail.id) (\(mail.kind.rawValue)) given up: \(error)")
            return .failed(error.description, retryAfterSeconds: nil, rejected: false)
        }
        do {
            try client.send(message.bytes, from: sender.address, to: message.to.address)
            Log.write("mailer: sent \(mail.id) (\(mail.kind.rawValue), attempt \(mail.attempts))")
            return .sent
        } catch {
            // A permanent refusal is tried again only a few times (a relay's passing misjudgement); others until the last attempt.
            let rejected = error.isPermanentRejection
            let next = rejected && mail.rejections + 1 >= Self.maximumRejections ? nil : retry.nextAttempt(afterAttempt: mail.attempts)
            Log.write("mailer: \(mail.id) (\(mail.kind.rawValue)) attempt \(mail.attempts) failed: \(error); "
                      + (next.map { "next attempt in \($0) s" }
                         ?? (rejected ? "given up after \(mail.rejections + 1) permanent refusals" : "given up after \(mail.attempts) attempts")))
            return .failed(error.description, retryAfterSeconds: next, rejected: rejected)
        }
    }

    /// Writes the marks, then the releases, the database has not taken yet.
    public func writeMarks(_ connection: PostgresConnection) throws {
        while let (mail, outcome) = unmarked.first {
            switch outcome {
            case .sent: try MailQueue.markSent(connection, id: mail.id)
            case .failed(let error, let retryAfter, let rejected):
                try MailQueue.markFailed(connection, mail, error: error, retryAfterSeconds: retryAfter, rejected: rejected)
            }
            unmarked.removeFirst()
        }
        while let mail = unreleased.first {
            try MailQueue.release(connection, mail)
            unreleased.removeFirst()
        }
    }
}

@available(*, unavailable)
extension MailCourier: Sendable {}
