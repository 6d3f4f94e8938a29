import Crypto
import HTTP
import Postgres
import Testing
@testable import UserService

/// `POST /password-reset-request` and `POST /password-reset-confirm` through the `Application`, against the real
/// PostgreSQL; the token is read from the outbox, where the mail waits for the mailer.
@Suite struct PasswordResetTests {
    static let requested = #"{"message":"If the address is registered, a reset link has been sent"}"#
    static let newPassword = "EvenBetterPass456"

    @Test func aResetSetsThePasswordRevokesEverySessionAndClearsTheThrottle() throws {
        let service = try TestService()
        let (user, first) = try service.newUser()
        let second = try service.login(user.username)
        for _ in 0..<2 { service.loginResponse(user.username.uppercased(), "WrongPass123") }
        service.loginResponse(user.email, "WrongPass123")
        #expect(try service.count("SELECT count(*) FROM login_throttle") == 2)

        let requested = service.requestReset("  \(user.email.uppercased()) ")
        #expect(requested.status == .accepted && requested.text == Self.requested)
        let token = try service.mailedToken(to: user.email, .passwordReset)
        #expect(token.utf8.count == 43 && Base64URL.decode(Array(token.utf8))?.count == 32)
        // Only the hash is stored; the mail expires with its token.
        #expect(try service.value("SELECT encode(token_hash, 'hex') FROM password_resets WHERE user_id = $1", [user.id])
                == Hex.encode(try Digest.sha256(Array(token.utf8))))
        #expect(try service.count("""
            SELECT count(*) FROM password_resets r JOIN mail_outbox m ON m.user_id = r.user_id AND m.expires_at = r.expires_at
            WHERE r.user_id = $1 AND r.expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes'
            """, [user.id]) == 1)

        let reset = service.confirmReset(token, Self.newPassword)
        #expect(reset.status == .ok && reset.text == #"{"message":"Password has been reset"}"#)
        #expect(try service.count("SELECT count(*) FROM login_throttle") == 0)  // by email and by username
        #expect(!reset.text.contains(token))
        #expect(service.loginResponse(user.email).status == .unauthorized)
        #expect(service.refresh(first.refresh).status == .unauthorized && service.refresh(second.refresh).status == .unauthorized)
        #expect(service.me(first).status == .unauthorized && service.me(second).status == .unauthorized)
        #expect(try service.count("SELECT count(*) FROM user_sessions WHERE user_id = $1 AND revoked_at IS NULL", [user.id]) == 0)
        #expect(try service.eventTypes(user).suffix(3) == ["password_reset_requested", "password_reset", "login_failure"])
        // The notice: no link, nothing to undo the change with.
        #expect(try service.mailCount(to: user.email, .passwordChanged) == 1)
        #expect(try service.value("SELECT variables::text FROM mail_outbox WHERE kind = 'password_changed'") == "{}")
        _ = try service.login(user.email, Self.newPassword)
    }

    @Test func usedExpiredSupersededAndUnknownTokensAndInactiveAccountsGetTheSameAnswer() throws {
        let service = try TestService()
        let user = try service.register()
        func refused(_ token: String, _ what: String) {
            let response = service.confirmReset(token, Self.newPassword)
            #expect(response.status == .badRequest && response.text == invalidToken, "\(what): \(response.text)")
        }
        service.requestReset(user.email)
        let superseded = try service.mailedToken(to: user.email, .passwordReset)
        service.requestReset(user.email)
        let token = try service.mailedToken(to: user.email, .passwordReset)
        refused(superseded, "superseded")
        refused(Base64URL.encode(try SecureRandom.bytes(32)), "unknown")
        refused("", "empty")

        try service.database.query("UPDATE users SET is_active = false WHERE id = $1", [user.id])
        refused(token, "inactive account")
        try service.database.query("UPDATE users SET is_active = true WHERE id = $1", [user.id])
        try service.shift("password_resets", ["expires_at"], by: 3601)
        refused(token, "expired")
        try service.shift("password_resets", ["expires_at"], by: -3601)
        #expect(service.confirmReset(token, Self.newPassword).status == .ok)
        refused(token, "used")
        _ = try service.login(user.email, Self.newPassword)
        #expect(try service.eventTypes(user).filter { $0 == "password_reset" }.count == 1)
    }

    @Test func aPasswordRefusedByTheRulesLeavesTheTokenUsable() throws {
        let service = try TestService()
        let user = try service.register()
        service.requestReset(user.email)
        let token = try service.mailedToken(to: user.email, .passwordReset)
        let weak = service.confirmReset(token, "short")
        #expect(weak.status == .unprocessableEntity && weak.json?["detail"]?.array?.first?["loc"] == .array(["body", "new_password"]))
        let sameAsName = service.confirmReset(token, user.username.prefix(1).uppercased() + user.username.dropFirst())
        #expect(sameAsName.status == .unprocessableEntity && sameAsName.text.contains("same as the username"))
        let mismatch = service.confirmReset(token, Self.newPassword, confirmation: "Other123456")
        #expect(mismatch.status == .unprocessableEntity && mismatch.text.contains("Passwords do not match"))
        #expect(service.requestReset("not-an-address").status == .unprocessableEntity)
        #expect(service.confirmReset(token, Self.newPassword).status == .ok)
    }

    /// Up to the point of queuing, an unknown, inactive or over-the-limit address gets the same work as one that is
    /// sent a link: the same prepared statements, each run as often (read from PostgreSQL's own counters for the
    /// worker's connection), no bcrypt either way (no password is involved); then the same status, headers and body. What differs comes
    /// after: the mail and its event, two inserts on the same transaction. (No timing is measured: on a loaded
    /// machine that would only be noise.)
    @Test func everyAddressGetsTheSameAnswerAfterTheSameStatements() throws {
        let service = try TestService()
        let user = try service.register()
        let inactive = try service.register()
        try service.database.query("UPDATE users SET is_active = false WHERE id = $1", [inactive.id])
        let database = service.application.services.database
        func executions() throws -> [String: Int] {
            try database.withConnection { connection in
                var counts: [String: Int] = [:]
                for row in try connection.query("SELECT name, generic_plans + custom_plans FROM pg_prepared_statements").rows {
                    counts[try row.requiredString(0)] = try row.int(1)
                }
                return counts
            }
        }
        func request(_ email: String) throws -> (TestResponse, [String: Int]) {
            let before = try executions()
            let response = service.requestReset(email)
            var work: [String: Int] = [:]
            for (name, count) in try executions() where count != before[name] { work[name] = count - (before[name] ?? 0) }
            return (response, work)
        }
        _ = try request("warm-up@example.com")  // statements are prepared on first use
        let (sent, sentWork) = try request(user.email)
        #expect(sentWork == ["password_reset_request": 1, "password_reset_lock_account": 1, "password_reset_issue": 1])
        for other in ["nobody@example.com", inactive.email] {
            let (answer, work) = try request(other)
            #expect(work == sentWork, "\(other)")
            #expect(answer.status == sent.status && answer.text == sent.text && answer.headers.map(\.0) == sent.headers.map(\.0))
            #expect(answer.headers.map(\.1) == sent.headers.map(\.1))
        }
        for _ in 0..<2 { service.requestReset(user.email) }
        let (overLimit, overLimitWork) = try request(user.email)
        #expect(overLimitWork == sentWork && overLimit.text == sent.text && overLimit.status == .accepted)
        #expect(try service.count("SELECT count(*) FROM mail_outbox WHERE kind = 'password_reset'") == 3)
        #expect(try service.count("SELECT count(*) FROM password_resets") == 3)
        #expect(try service.mailCount(to: inactive.email, .passwordReset) == 0)
    }

    /// The address's counter, its row's version (`xmin`: the transaction that wrote it last) and count.
    static func counter(_ service: TestService, _ email: String) throws -> (version: String, requests: Int)? {
        try service.database.query("""
            SELECT xmin::text, requests FROM password_reset_requests WHERE address_hash = sha256(convert_to($1, 'UTF8'))
            """, [email]).first.map { (try $0.requiredString(0), try #require(try $0.int(1))) }
    }

    /// Every request's transaction writes, before it looks the address up: an active account's, an unknown one, an
    /// inactive account's, and one over its limit alike. (A read-only transaction commits without waiting for a WAL
    /// flush, so with fsync on it answered several times faster for an address no active account has.) Read from the
    /// rows, never a timing: after each request its address's counter row is a new version, and the link issued to
    /// the active account was written by that same transaction.
    @Test func everyRequestWritesWhateverTheAddress() throws {
        let service = try TestService()
        let user = try service.register()
        let inactive = try service.register()
        try service.database.query("UPDATE users SET is_active = false WHERE id = $1", [inactive.id])
        let requests: [(String, Comment)] = [(user.email, "active"), ("nobody@example.com", "unknown"), (inactive.email, "inactive"),
                                              (user.email, "second"), (user.email, "third"), (user.email, "over the limit"),
                                              (user.email, "still over the limit")]
        for (email, what) in requests {
            let before = try Self.counter(service, email)
            #expect(service.requestReset(email).text == Self.requested, what)
            let after = try #require(try Self.counter(service, email), what)
            #expect(after.version != before?.version, what)
            #expect(after.requests == min((before?.requests ?? 0) + 1, 4), what)
            if what == "active" {
                #expect(try service.value("SELECT xmin::text FROM password_resets WHERE user_id = $1", [user.id]) == after.version)
            }
        }
        #expect(try service.mailCount(to: user.email, .passwordReset) == 3)
    }

    /// The limit counts requests for an address, whoever has it: an account that moves to a new address does not
    /// bring its count along, and an address asked about before anyone registered it keeps its count.
    @Test func theLimitIsPerAddressNotPerAccount() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        for _ in 0..<3 { service.requestReset(user.email) }
        #expect(service.changeEmail(tokens, to: "moved@example.com").status == .accepted)
        #expect(service.verifyEmail(try service.mailedToken(to: "moved@example.com", .emailVerification)).status == .ok)
        service.requestReset("moved@example.com")
        #expect(try service.mailCount(to: "moved@example.com", .passwordReset) == 1)

        for _ in 0..<3 { service.requestReset("later@example.com") }
        #expect(service.request("POST", "/api/v1/auth/register",
                                json: TestService.registration(email: "later@example.com", username: "later")).status == .created)
        service.requestReset("later@example.com")
        #expect(try service.mailCount(to: "later@example.com", .passwordReset) == 0)
    }

    @Test func beyondTheHourlyLimitNoMailNoTokenAndTheLastLinkStillWorks() throws {
        let service = try TestService()
        let user = try service.register()
        for _ in 0..<3 { #expect(service.requestReset(user.email).text == Self.requested) }
        let third = try service.mailedToken(to: user.email, .passwordReset)
        #expect(service.requestReset(user.email).text == Self.requested)
        #expect(try service.mailCount(to: user.email, .passwordReset) == 3)
        #expect(try service.count("SELECT count(*) FROM password_resets WHERE user_id = $1", [user.id]) == 3)
        #expect(try service.eventTypes(user).filter { $0 == "password_reset_requested" }.count == 3)
        #expect(try service.mailedToken(to: user.email, .passwordReset) == third)
        // An hour after its first request the address may ask again.
        try service.shift("password_reset_requests", ["window_started_at"], by: 3600)
        service.requestReset(user.email)
        #expect(try service.mailCount(to: user.email, .passwordReset) == 4)
        let fourth = try service.mailedToken(to: user.email, .passwordReset)
        #expect(service.confirmReset(third, Self.newPassword).text == invalidToken)  // superseded by the newer one
        #expect(service.confirmReset(fourth, Self.newPassword).status == .ok)
    }

    @Test func requestsRacingForTheLastPlaceUnderTheLimitIssueOneToken() throws {
        let service = try TestService()
        let user = try service.register()
        for _ in 0..<2 { service.requestReset(user.email) }
        try service.database.query("BEGIN")
        try service.database.query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", [user.id])
        let racers = try (0..<2).map { _ in
            try SecondWorker(service.configuration, TestService.httpRequest(
                "POST", "/api/v1/auth/password-reset-request", json: .object([("email", .string(user.email))])))
        }
        try service.waitForWaiter("two reset requests", waiters: 2)
        try service.database.query("COMMIT")
        #expect(try racers.map { try $0.response().text } == [Self.requested, Self.requested])
        #expect(try service.count("SELECT count(*) FROM password_resets WHERE user_id = $1", [user.id]) == 3)
        #expect(try service.count("SELECT count(*) FROM password_resets WHERE user_id = $1 AND revoked_at IS NULL", [user.id]) == 1)
    }

    /// A confirmation and a change-password of the same account at once: both checked what they claim the account
    /// with, then wait for its row. Exactly one wins — the other finds its token ended or its hash changed — and
    /// one notice is queued.
    @Test func aConfirmationRacingChangePasswordExactlyOneWins() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let token = try service.resetLinkWithTheAccountHeld(user)
        let confirm = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/auth/password-reset-confirm", json: TestService.resetConfirmation(token, "ResetPass12345")))
        let change = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/auth/change-password", json: .object([
                ("current_password", .string(TestService.password)), ("new_password", "ChangedPass12345"),
                ("confirm_password", "ChangedPass12345")]), token: tokens.access))
        try service.waitForWaiter("the confirmation and the change", waiters: 2)
        try service.database.query("COMMIT")
        let (confirmed, changed) = (try confirm.response(), try change.response())
        let outcome = "\(confirmed.status.code) \(changed.status.code)"
        #expect(outcome == "200 401" || outcome == "400 200", "\(outcome)")
        _ = try service.login(user.email, confirmed.status == .ok ? "ResetPass12345" : "ChangedPass12345")
        #expect(try service.mailCount(to: user.email, .passwordChanged) == 1)
        #expect(try service.eventTypes(user).filter { $0 == "password_reset" || $0 == "password_change" }.count == 1)
    }

    /// A confirmation and a new request for the same address at once (the test holds the account's row and the
    /// address's counter): whichever goes first, no deadlock and no error, the request is answered as ever, and
    /// exactly one link is left working — the one mailed last.
    @Test func aConfirmationRacingANewRequestLeavesOneWorkingLink() throws {
        let service = try TestService()
        let user = try service.register()
        let token = try service.resetLinkWithTheAccountHeld(user)
        try service.database.query("""
            SELECT 1 FROM password_reset_requests WHERE address_hash = sha256(convert_to($1, 'UTF8')) FOR UPDATE
            """, [user.email])
        let confirm = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/auth/password-reset-confirm", json: TestService.resetConfirmation(token, "ResetPass12345")))
        let request = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/auth/password-reset-request", json: .object([("email", .string(user.email))])))
        try service.waitForWaiter("the confirmation and the request", waiters: 2)
        try service.database.query("COMMIT")
        let (confirmed, requested) = (try confirm.response(), try request.response())
        #expect(requested.status == .accepted && requested.text == Self.requested)
        #expect(confirmed.status == .ok || confirmed.text == invalidToken, "\(confirmed.text)")
        #expect(try service.mailCount(to: user.email, .passwordReset) == 2)
        #expect(try service.count("""
            SELECT count(*) FROM password_resets WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL
            """, [user.id]) == 1)
        let password = confirmed.status == .ok ? "ResetPass12345" : TestService.password
        _ = try service.login(user.email, password)
        #expect(service.confirmReset(try service.mailedToken(to: user.email, .passwordReset), Self.newPassword).status == .ok)
    }

    @Test func twoConfirmationsOfOneTokenCannotBothWin() throws {
        let service = try TestService()
        let user = try service.register()
        let token = try service.resetLinkWithTheAccountHeld(user)
        let confirmations = try ["FirstNewPass123", "SecondNewPass456"].map { password in
            try SecondWorker(service.configuration, TestService.httpRequest(
                "POST", "/api/v1/auth/password-reset-confirm", json: TestService.resetConfirmation(token, password)))
        }
        try service.waitForWaiter("two confirmations", waiters: 2)  // both found the token valid and hashed a password
        try service.database.query("COMMIT")
        let answers = try confirmations.map { try $0.response() }
        #expect(answers.map(\.status.code).sorted() == [200, 400])
        let winner = answers[0].status == .ok ? "FirstNewPass123" : "SecondNewPass456"
        _ = try service.login(user.email, winner)
        #expect(try service.eventTypes(user).filter { $0 == "password_reset" }.count == 1)
        #expect(try service.mailCount(to: user.email, .passwordChanged) == 1)
    }

    @Test func changePasswordSendsTheNoticeAndEndsResetLinks() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        service.requestReset(user.email)
        let token = try service.mailedToken(to: user.email, .passwordReset)
        #expect(service.changePassword(tokens, current: TestService.password, new: Self.newPassword).status == .ok)
        #expect(try service.mailCount(to: user.email, .passwordChanged) == 1)
        #expect(service.confirmReset(token, "ThirdNewPass789").text == invalidToken)
        // A change that fails queues nothing.
        #expect(service.changePassword(tokens, current: "WrongPass123", new: "ThirdNewPass789").status == .badRequest)
        #expect(try service.mailCount(to: user.email, .passwordChanged) == 1)
    }
}

/// `user-service cleanup` and the mail flows' tokens: spent ones go after the retention, live ones stay.
@Suite struct MailTokenCleanupTests {
    @Test func cleanupRemovesOnlyTokensSpentLongerAgoThanTheRetention() throws {
        let service = try TestService()
        let (old, fresh) = (try service.register(), try service.register())
        for user in [old, fresh] { service.requestReset(user.email) }
        try service.database.query("UPDATE password_resets SET used_at = now() - interval '31 days' WHERE user_id = $1", [old.id])
        try service.database.query("UPDATE email_verifications SET expires_at = now() - interval '31 days' WHERE user_id = $1", [old.id])
        try service.database.query("UPDATE email_verifications SET revoked_at = now() - interval '29 days' WHERE user_id = $1", [fresh.id])
        let report = try Cleanup(connection: service.database, configuration: service.configuration).run()
        #expect(report.mailTokens == 2 && report.description.contains(", 2 reset and verification tokens, "))
        #expect(try service.count("SELECT count(*) FROM password_resets WHERE user_id = $1", [fresh.id]) == 1)
        #expect(try service.count("SELECT count(*) FROM email_verifications WHERE user_id = $1", [fresh.id]) == 1)
        #expect(try service.count("SELECT count(*) FROM password_resets") + service.count("SELECT count(*) FROM email_verifications") == 2)
    }

    /// The mail limits' windows go once they have ended; running windows stay.
    @Test func cleanupRemovesEndedWindowsOfTheMailLimits() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        for email in [user.email, "nobody@example.com"] { service.requestReset(email) }
        #expect(service.request("POST", "/api/v1/auth/verify-email-request", token: tokens.access).status == .accepted)
        #expect(service.changeEmail(tokens, to: "moved@example.com").status == .accepted)
        try service.shift("password_reset_requests", ["window_started_at"], by: 3601,
                          where: "address_hash = sha256(convert_to('\(user.email)', 'UTF8'))")
        try service.shift("mail_link_requests", ["window_started_at"], by: 3601, where: "purpose = 'verify_email'")
        _ = try Cleanup(connection: service.database, configuration: service.configuration).run()
        #expect(try PasswordResetTests.counter(service, user.email) == nil && PasswordResetTests.counter(service, "nobody@example.com") != nil)
        #expect(try service.value("SELECT string_agg(purpose, ',') FROM mail_link_requests") == "change_email")
    }
}
