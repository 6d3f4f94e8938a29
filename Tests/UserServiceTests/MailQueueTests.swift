import HTTP
import Postgres
import Testing
@testable import UserService

/// The outbox's life in SQL (`MailOutbox.enqueue`, `MailQueue`), its counters, `/metrics` and cleanup, on the real
/// PostgreSQL. Time is moved in the database, never waited for. Sending is tested end to end (Tests/e2e/test_mailer.py).
@Suite struct MailQueueTests {
    let service: TestService
    var database: PostgresConnection { service.database }

    init() throws { service = try TestService() }

    /// Another mailer's connection to the same schema.
    func otherConnection() throws -> PostgresConnection {
        try PostgresConnection(ConnectionOptions(url: service.configuration.databaseURL))
    }

    func queue(_ count: Int, _ kind: OutgoingMail.Kind = .passwordReset, token: String? = "tok", expiresInSeconds: Int? = 3600) throws {
        for index in 0..<count {
            try database.query("""
                INSERT INTO mail_outbox (kind, recipient, variables, expires_at)
                VALUES ($1, $2, jsonb_strip_nulls(jsonb_build_object('token', $3::text)), now() + make_interval(secs => $4::integer))
                """, [kind.rawValue, "user\(index)@example.com", token, expiresInSeconds])
        }
    }

    func lease(_ connection: PostgresConnection? = nil) throws -> [MailQueue.LeasedMail] {
        try MailQueue.lease(connection ?? database, limit: 10, slotSeconds: 40, marginSeconds: 30)
    }

    func counters(_ kind: OutgoingMail.Kind = .passwordReset) throws -> [Int] {
        guard let row = try database.query("SELECT sent, send_failures, given_up, expired FROM mail_delivery_counters WHERE kind = $1",
                                           [kind.rawValue]).first else { return [0, 0, 0, 0] }
        return try (0..<4).map { try row.int($0) ?? -1 }
    }

    @Test func enqueueCommitsAndRollsBackWithItsTransaction() throws {
        let user = try service.register()
        let reset = OutgoingMail(.passwordReset, to: user.email, userID: user.id, token: "t0k3n",
                                 expiresAt: PostgresTimestamp(microsecondsSinceEpoch: (Clock.unixSeconds() + 3600) * 1_000_000))
        #expect(throws: Failure.self) {
            try database.transaction { connection in
                try MailOutbox.enqueue(reset, on: connection)
                throw Failure("the change that caused the mail failed")
            }
        }
        // (Registration queued its verification mail: only the reset is looked for.)
        #expect(try service.count("SELECT count(*) FROM mail_outbox WHERE kind = 'password_reset'") == 0)
        try database.transaction { try MailOutbox.enqueue(reset, on: $0) }
        try database.transaction { try MailOutbox.enqueue(OutgoingMail(.passwordChanged, to: user.email, userID: user.id), on: $0) }
        #expect(try service.value("SELECT variables::text FROM mail_outbox WHERE kind = 'password_reset'") == #"{"token": "t0k3n"}"#)
        #expect(try service.value("SELECT variables::text FROM mail_outbox WHERE kind = 'password_changed'") == "{}")
        // Deleting the account deletes its mail.
        try database.query("DELETE FROM users WHERE id = $1", [user.id])
        #expect(try service.count("SELECT count(*) FROM mail_outbox") == 0)
    }

    @Test func leasesGoToOneMailerEachLaterMailsLeasedLonger() throws {
        try queue(15)
        let other = try otherConnection()
        let first = try lease(), second = try lease(other)
        #expect(first.count == 10 && second.count == 5)
        #expect(Set(first.map(\.id)).isDisjoint(with: second.map(\.id)))
        #expect(try lease().isEmpty && lease(other).isEmpty)
        #expect(first.map(\.leaseSeconds) == (1...10).map { $0 * 40 + 30 } && first.allSatisfy { $0.attempts == 1 })
        #expect(try service.count("SELECT count(*) FROM mail_outbox WHERE attempts = 1 AND leased_until > now() + interval '60 seconds'") == 15)
        // A lease that ran out (its mailer died) lets another take the mail.
        try service.shift("mail_outbox", ["leased_until"], by: 3600, where: "id = '\(first[0].id)'")
        let retaken = try lease(other)
        #expect(retaken.map(\.id) == [first[0].id] && retaken[0].attempts == 2)
    }

    @Test func aFailedAttemptIsRetriedLaterThenGivenUp() throws {
        try queue(1)
        let mail = try #require(try lease().first)
        try MailQueue.markFailed(database, id: mail.id, error: "Failed to connect to relay", retryAfterSeconds: 5)
        #expect(try service.value("""
            SELECT concat_ws('|', attempts, last_error, leased_until IS NULL, failed_at IS NULL, variables ->> 'token',
                             next_attempt_at BETWEEN now() + interval '4 seconds' AND now() + interval '6 seconds')
            FROM mail_outbox
            """) == "1|Failed to connect to relay|t|t|tok|t")
        #expect(try lease().isEmpty)  // not before its time
        try service.shift("mail_outbox", ["next_attempt_at"], by: 10)
        let again = try #require(try lease().first)
        #expect(again.attempts == 2)
        try MailQueue.markFailed(database, id: again.id, error: "still down", retryAfterSeconds: nil)
        #expect(try service.value("SELECT concat_ws('|', attempts, last_error, failed_at IS NOT NULL, variables::text) FROM mail_outbox")
                == "2|still down|t|{}")
        #expect(try counters() == [0, 2, 1, 0])
        try service.shift("mail_outbox", ["next_attempt_at"], by: 10)
        #expect(try lease().isEmpty)
    }

    @Test func aSentMailIsBlankedCountedAndNeverLeasedAgain() throws {
        try queue(1)
        let mail = try #require(try lease().first)
        try MailQueue.markSent(database, id: mail.id)
        try MailQueue.markSent(database, id: mail.id)  // a mark written twice counts once
        #expect(try service.value("SELECT concat_ws('|', sent_at IS NOT NULL, leased_until IS NULL, variables::text) FROM mail_outbox") == "t|t|{}")
        #expect(try counters() == [1, 0, 0, 0])
        try service.shift("mail_outbox", ["next_attempt_at"], by: 3600)
        #expect(try lease().isEmpty)
    }

    @Test func aReleaseOnlyUndoesALeaseThatIsStillThisMailers() throws {
        try queue(1)
        let mine = try #require(try lease().first)
        try service.shift("mail_outbox", ["leased_until"], by: 3600)
        let theirs = try #require(try lease(try otherConnection()).first)
        try MailQueue.release(database, mine)  // too late: another mailer holds it now
        #expect(try service.value("SELECT concat_ws('|', attempts, leased_until > now()) FROM mail_outbox") == "2|t")
        try MailQueue.release(database, theirs)
        #expect(try service.value("SELECT concat_ws('|', attempts, leased_until IS NULL) FROM mail_outbox") == "1|t")
        #expect(try lease().count == 1)
    }

    @Test func pendingMailPastItsExpiryIsDroppedNotLeased() throws {
        try queue(2, expiresInSeconds: -1)
        try queue(1, .passwordChanged, token: nil, expiresInSeconds: nil)
        #expect(try lease().map(\.kind) == [.passwordChanged])
        #expect(try MailQueue.dropExpired(database, limit: 1000) == 2)
        #expect(try MailQueue.dropExpired(database, limit: 1000) == 0)
        #expect(try service.count("""
            SELECT count(*) FROM mail_outbox
            WHERE failed_at IS NOT NULL AND variables = '{}' AND attempts = 0 AND last_error LIKE 'expired%'
            """) == 2)
        #expect(try counters() == [0, 0, 0, 2])
    }

    @Test func theNextDueTimeAccountsForRetriesAndOtherMailersLeases() throws {
        #expect(try MailQueue.secondsUntilDue(database) == nil)
        try queue(1)
        #expect(try #require(try MailQueue.secondsUntilDue(database)) <= 0)
        let mail = try #require(try lease().first)
        #expect(try #require(try MailQueue.secondsUntilDue(database)) > 60)  // leased: due when the lease ends
        try MailQueue.markFailed(database, id: mail.id, error: "x", retryAfterSeconds: 20)
        #expect(try (15...20).contains(#require(try MailQueue.secondsUntilDue(database))))
    }

    @Test func metricsShowTheOutboxAndCleanupLeavesTheCountersAlone() throws {
        try queue(3)
        try service.shift("mail_outbox", ["created_at"], by: 120)
        let leased = try lease()
        try MailQueue.markSent(database, id: leased[0].id)
        try MailQueue.markFailed(database, id: leased[1].id, error: "x", retryAfterSeconds: nil)
        try MailQueue.markFailed(database, id: leased[2].id, error: "x", retryAfterSeconds: 5)
        try queue(1, .emailVerification)
        let metrics = service.metrics
        #expect(metrics.contains("user_service_mail_outbox_pending 2\n"))
        let age = try #require(metrics.split(separator: "\n").first { $0.hasPrefix("user_service_mail_outbox_oldest_pending_age_seconds ") })
        #expect(try #require(Double(age.split(separator: " ")[1])) >= 120)
        for line in [#"user_service_mail_sent_total{kind="password_reset"} 1"#, #"user_service_mail_send_failures_total{kind="password_reset"} 2"#,
                     #"user_service_mail_given_up_total{kind="password_reset"} 1"#, #"user_service_mail_expired_total{kind="password_reset"} 0"#,
                     #"user_service_mail_sent_total{kind="email_change_notice"} 0"#, "# TYPE user_service_mail_sent_total counter"] {
            #expect(metrics.contains(line + "\n"), "\(line)")
        }

        // Cleanup: sent and given-up mail past MAIL_RETENTION_DAYS (30) goes; pending mail, however old, stays.
        try service.shift("mail_outbox", ["sent_at", "failed_at", "created_at"], by: 31 * 86_400)
        let report = try Cleanup(connection: database, configuration: service.configuration).run()
        #expect(report.mails == 2 && report.description.hasSuffix(", 2 mails"))
        #expect(try service.count("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL") == 2)
        #expect(try service.count("SELECT count(*) FROM mail_outbox") == 2)
        #expect(try counters() == [1, 2, 1, 0])
        #expect(service.metrics.contains(#"user_service_mail_sent_total{kind="password_reset"} 1"# + "\n"))
    }
}
