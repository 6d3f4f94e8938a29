import HTTP
public import Postgres
import SMTP

/// Delivers the outbox's due mail, one round at a time, for `user-service mailer` (which waits between rounds and
/// owns the connection): drop what expired, lease a batch, send each mail outside any transaction, mark it.
///
/// A mark that cannot be written because the database went away is kept and written first in the next round, so
/// a mail the relay took is not sent again when the connection comes back within its lease. Delivery is
/// at-least-once: only a mailer that dies between the relay's acceptance and the mark resends, with the same
/// `Message-ID`.
public final class MailCourier {
    /// Mails leased per round: a round that leased this many may have left more due.
    public static let batchSizeLimit = 10
    /// Added to the SMTP timeout for each mail's place in a lease: the time its mark may take.
    static let markAllowanceSeconds = 10
    /// Added to every lease.
    static let leaseMarginSeconds = 30

    private let client: SMTPClient
    private let composer: MailComposer
    private let sender: MailAddress
    private let retry: RetrySchedule
    private let timeoutSeconds: Int
    /// The relay, the sender and the templates, for the start-up line (no password).
    public let relayDescription: String
    private var unmarked: [(id: String, outcome: Outcome)] = []

    enum Outcome {
        case sent
        case failed(String, retryAfterSeconds: Int?)
    }

    /// What a round did.
    public struct Round: Equatable {
        public var leased = 0
        public var sent = 0
        public var failed = 0
        public var expired = 0
    }

    /// Checks the settings a delivery needs and reads the templates; errors name the variable or the file.
    public init(settings: MailSettings) throws {
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
        relayDescription = "relay \(delivery.relay.url) (\(delivery.relay.security.rawValue)\(delivery.relay.credentials.map { ", login \($0.username)" } ?? "")),"
            + " from \(delivery.from.address), links to \(delivery.publicBaseURL), templates in \(settings.templatesDirectory)"
    }

    /// One round. `stopRequested` is asked before each mail: when it says yes, the rest of the batch is released
    /// unsent (its attempts not counted) and the round ends.
    public func deliverDue(on connection: PostgresConnection, stopRequested: () -> Bool) throws -> Round {
        var round = Round()
        try writeMarks(connection)
        round.expired = try MailQueue.dropExpired(connection, limit: 1000)
        if round.expired > 0 { Log.write("mailer: dropped \(round.expired) mails whose token expired before they could be sent") }
        let started = Clock.nanoseconds()
        let batch = try MailQueue.lease(connection, limit: Self.batchSizeLimit, slotSeconds: timeoutSeconds + Self.markAllowanceSeconds,
                                        marginSeconds: Self.leaseMarginSeconds)
        round.leased = batch.count
        for (index, mail) in batch.enumerated() {
            // A mail is sent only while its lease outlasts the whole exchange, so no other mailer can take it meanwhile.
            let elapsed = Int((Clock.nanoseconds() - started) / 1_000_000_000)
            if stopRequested() || elapsed + timeoutSeconds + Self.markAllowanceSeconds > mail.leaseSeconds {
                for unsent in batch[index...] { try MailQueue.release(connection, unsent) }
                break
            }
            let outcome = send(mail)
            if case .sent = outcome { round.sent += 1 } else { round.failed += 1 }
            unmarked.append((mail.id, outcome))
            try writeMarks(connection)
        }
        return round
    }

    /// Seconds until the next pending mail is due; nil when none is pending.
    public func secondsUntilDue(on connection: PostgresConnection) throws -> Double? {
        try MailQueue.secondsUntilDue(connection)
    }

    /// Marks not yet written (the database went away after the send).
    public var unmarkedCount: Int { unmarked.count }

    private func send(_ mail: MailQueue.LeasedMail) -> Outcome {
        let message: MailMessage
        do {
            message = try composer.message(for: mail, at: PostgresTimestamp(microsecondsSinceEpoch: Clock.unixSeconds() * 1_000_000))
        } catch {
            Log.write("mailer: \(mail.id) (\(mail.kind.rawValue)) given up: \(error)")
            return .failed(error.description, retryAfterSeconds: nil)
        }
        do {
            try client.send(message.bytes, from: sender.address, to: message.to.address)
            Log.write("mailer: sent \(mail.id) (\(mail.kind.rawValue), attempt \(mail.attempts))")
            return .sent
        } catch {
            let next = retry.nextAttempt(afterAttempt: mail.attempts)
            Log.write("mailer: \(mail.id) (\(mail.kind.rawValue)) attempt \(mail.attempts) failed: \(error); "
                      + (next.map { "next attempt in \($0) s" } ?? "given up after \(mail.attempts) attempts"))
            return .failed(error.description, retryAfterSeconds: next)
        }
    }

    /// Writes the marks the database could not take when their mails were sent.
    public func writeMarks(_ connection: PostgresConnection) throws {
        while let (id, outcome) = unmarked.first {
            switch outcome {
            case .sent: try MailQueue.markSent(connection, id: id)
            case .failed(let error, let retryAfter): try MailQueue.markFailed(connection, id: id, error: error, retryAfterSeconds: retryAfter)
            }
            unmarked.removeFirst()
        }
    }
}

@available(*, unavailable)
extension MailCourier: Sendable {}
