import Crypto
import HTTP
import Postgres
import Testing
@testable import UserService

/// Verification at registration and on request, `REQUIRE_VERIFIED_EMAIL`, and changing the address, through the
/// `Application` against the real PostgreSQL; tokens are read from the outbox.
@Suite struct EmailVerificationTests {
    static let alreadyVerified = #"{"detail":"Email already verified"}"#

    @Test func registrationMailsALinkThatVerifiesTheAddressOnce() throws {
        let service = try TestService()
        let user = try service.register()
        let token = try service.mailedToken(to: user.email, .emailVerification)
        #expect(try service.value("SELECT encode(token_hash, 'hex') FROM email_verifications WHERE user_id = $1", [user.id])
                == Hex.encode(try Digest.sha256(Array(token.utf8))))
        #expect(try service.count("""
            SELECT count(*) FROM email_verifications WHERE user_id = $1 AND email = $2 AND replaces_email IS NULL
               AND expires_at BETWEEN now() + interval '47 hours' AND now() + interval '49 hours'
            """, [user.id, user.email]) == 1)
        let verified = service.verifyEmail(token)
        #expect(verified.status == .ok && verified.text == #"{"message":"Email verified successfully"}"#)
        #expect(service.me(try service.login(user.email)).json?["is_verified"] == true)
        #expect(service.verifyEmail(token).text == invalidToken)
        #expect(service.verifyEmail(Base64URL.encode(try SecureRandom.bytes(32))).text == invalidToken)
        #expect(try service.eventTypes(user) == ["email_verified", "login_success"])
    }

    @Test func registrationWithoutVerificationMailWhenTurnedOff() throws {
        let service = try TestService(["EMAIL_VERIFICATION_ON_REGISTER": "false"])
        let user = try service.register()
        #expect(try service.count("SELECT count(*) FROM mail_outbox") == 0)
        #expect(try service.count("SELECT count(*) FROM email_verifications WHERE user_id = $1", [user.id]) == 0)
    }

    /// The registration's transaction fails at COMMIT (a deferred trigger the test adds), after the mail was queued
    /// in it: the mail goes with the account. The trigger notes in a sequence (which no rollback undoes) that the
    /// mail was there.
    @Test func aRegistrationThatRollsBackQueuesNothing() throws {
        let service = try TestService()
        try service.database.executeScript("""
            CREATE SEQUENCE mails_seen_at_commit MINVALUE 0 START 0;
            CREATE FUNCTION fail_registration() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
                SET search_path FROM CURRENT AS $$
            BEGIN
                PERFORM setval('mails_seen_at_commit', (SELECT count(*) FROM mail_outbox WHERE user_id = NEW.id));
                RAISE EXCEPTION 'registration failed at commit';
            END $$;
            CREATE CONSTRAINT TRIGGER fail_registration AFTER INSERT ON users DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION fail_registration();
            """)
        let response = service.request("POST", "/api/v1/auth/register", json: TestService.registration(email: "gone@example.com", username: "gone"))
        #expect(response.status == .internalServerError)
        #expect(try service.value("SELECT last_value FROM mails_seen_at_commit") == "1")
        #expect(try service.count("SELECT count(*) FROM mail_outbox") == 0)
        #expect(try service.count("SELECT count(*) FROM email_verifications") == 0 && service.count("SELECT count(*) FROM users") == 0)
    }

    @Test func aFreshLinkOnRequestSupersedesTheLastAndAVerifiedAccountGets409() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let first = try service.mailedToken(to: user.email, .emailVerification)
        let requested = service.request("POST", "/api/v1/auth/verify-email-request", token: tokens.access)
        #expect(requested.status == .accepted && requested.text == #"{"message":"Verification email sent"}"#)
        let second = try service.mailedToken(to: user.email, .emailVerification)
        #expect(second != first)
        #expect(service.verifyEmail(first).text == invalidToken)
        try service.shift("email_verifications", ["expires_at"], by: 48 * 3600)
        #expect(service.verifyEmail(second).text == invalidToken)
        try service.shift("email_verifications", ["expires_at"], by: -48 * 3600)
        #expect(service.verifyEmail(second).status == .ok)
        let again = service.request("POST", "/api/v1/auth/verify-email-request", token: tokens.access)
        #expect(again.status == .conflict && again.text == Self.alreadyVerified)
        #expect(try service.mailCount(to: user.email, .emailVerification) == 2)
        #expect(service.request("POST", "/api/v1/auth/verify-email-request").status == .unauthorized)
    }

    @Test func anInactiveAccountsLinkDoesNothing() throws {
        let service = try TestService()
        let user = try service.register()
        let token = try service.mailedToken(to: user.email, .emailVerification)
        try service.database.query("UPDATE users SET is_active = false WHERE id = $1", [user.id])
        #expect(service.verifyEmail(token).text == invalidToken)
        #expect(try service.value("SELECT is_verified::text FROM users WHERE id = $1", [user.id]) == "false")
    }

    @Test func requireVerifiedEmailRefusesLoginAfterTheRightPasswordOnly() throws {
        let service = try TestService(["REQUIRE_VERIFIED_EMAIL": "true"])
        let user = try service.register()
        let refused = service.loginResponse(user.email)
        #expect(refused.status == .forbidden && refused.text == #"{"detail":"Email not verified"}"#)
        #expect(service.loginResponse(user.email, "WrongPass123").status == .unauthorized)
        #expect(try service.count("SELECT count(*) FROM user_sessions") == 0)
        #expect(service.verifyEmail(try service.mailedToken(to: user.email, .emailVerification)).status == .ok)
        _ = try service.login(user.email)
    }

    @Test func changingTheAddressTakesEffectOnlyWithTheNewAddressesLink() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let oldAddressToken = try service.mailedToken(to: user.email, .emailVerification)
        service.requestReset(user.email)
        let resetToken = try service.mailedToken(to: user.email, .passwordReset)
        let other = try service.register()

        #expect(service.changeEmail(tokens, to: user.email.uppercased()).status == .unprocessableEntity)
        #expect(service.changeEmail(tokens, to: "not-an-address").status == .unprocessableEntity)
        #expect(service.changeEmail(tokens, to: "new..x@example.com").status == .unprocessableEntity)
        #expect(service.changeEmail(tokens, to: "josé@example.com").status == .unprocessableEntity)
        let taken = service.changeEmail(tokens, to: " \(other.email.uppercased()) ")
        #expect(taken.status == .conflict && taken.text == #"{"detail":"Email already registered"}"#)
        let wrong = service.changeEmail(tokens, to: "new@example.com", password: "WrongPass123")
        #expect(wrong.status == .badRequest && wrong.text == #"{"detail":"Incorrect password"}"#)

        let asked = service.changeEmail(tokens, to: "New@Example.com")
        #expect(asked.status == .accepted && asked.text == #"{"message":"A verification link has been sent to the new address"}"#)
        #expect(try service.mailCount(to: user.email, .emailChangeNotice) == 1)
        #expect(try service.value("SELECT variables::text FROM mail_outbox WHERE kind = 'email_change_notice'") == "{}")
        let newAddressToken = try service.mailedToken(to: "new@example.com", .emailVerification)
        // Nothing has changed yet.
        #expect(service.me(tokens).json?["email"]?.string == user.email)
        _ = try service.login(user.email)

        let changed = service.verifyEmail(newAddressToken)
        #expect(changed.status == .ok && changed.text == #"{"message":"Email changed successfully"}"#)
        let me = service.me(tokens).json
        #expect(me?["email"] == "new@example.com" && me?["is_verified"] == true)
        _ = try service.login("new@example.com")
        #expect(service.loginResponse(user.email).status == .unauthorized)
        // The links sent to the old address do nothing any more.
        #expect(service.verifyEmail(oldAddressToken).text == invalidToken)
        #expect(service.confirmReset(resetToken, "EvenBetterPass456").text == invalidToken)
        #expect(try service.eventTypes(user).contains("email_change_requested") && service.eventTypes(user).contains("email_changed"))
    }

    @Test func aNewerChangeSupersedesTheEarlierAndAnAddressTakenMeanwhileIs409() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        #expect(service.changeEmail(tokens, to: "first@example.com").status == .accepted)
        let first = try service.mailedToken(to: "first@example.com", .emailVerification)
        #expect(service.changeEmail(tokens, to: "second@example.com").status == .accepted)
        let second = try service.mailedToken(to: "second@example.com", .emailVerification)
        #expect(service.verifyEmail(first).text == invalidToken)
        // Someone registers the address before the link is followed: the unique index decides.
        service.request("POST", "/api/v1/auth/register", json: TestService.registration(email: "SECOND@example.com", username: "squatter"))
        let lost = service.verifyEmail(second)
        #expect(lost.status == .conflict && lost.text == #"{"detail":"Email already registered"}"#)
        #expect(service.me(tokens).json?["email"]?.string == user.email)
        // Its own address's link still verifies it.
        #expect(service.verifyEmail(try service.mailedToken(to: user.email, .emailVerification)).text
                == #"{"message":"Email verified successfully"}"#)
    }

    @Test func aChangeLosesToAPasswordChangeCommittedMeanwhile() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        try service.database.query("BEGIN")
        try service.database.query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", [user.id])
        let change = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/auth/change-email", json: .object([("new_email", "moved@example.com"), ("password", .string(TestService.password))]),
            token: tokens.access))
        try service.waitForWaiter("the change of address")  // the password was checked; the claim waits for the row
        try service.database.query("UPDATE users SET hashed_password = $2 WHERE id = $1", [user.id, try Bcrypt.hash("TheirNewPass789", cost: 4)])
        try service.database.query("COMMIT")
        #expect(try change.response().status == .unauthorized)
        #expect(try service.count("SELECT count(*) FROM email_verifications WHERE replaces_email IS NOT NULL") == 0)
        #expect(try service.mailCount(to: user.email, .emailChangeNotice) == 0)
    }

    /// With `REQUIRE_VERIFIED_EMAIL`, an account whose verification link expired cannot log in, so cannot ask for a
    /// new link: a reset through the mailbox is its way back, and verifies the address.
    @Test func aResetVerifiesTheAddressSoAnAccountWhoseLinkExpiredCanComeBack() throws {
        let service = try TestService(["REQUIRE_VERIFIED_EMAIL": "true"])
        let user = try service.register()
        try service.shift("email_verifications", ["expires_at"], by: 49 * 3600)
        #expect(service.loginResponse(user.email).text == #"{"detail":"Email not verified"}"#)
        service.requestReset(user.email)
        #expect(service.confirmReset(try service.mailedToken(to: user.email, .passwordReset), "RecoveredPass123").status == .ok)
        #expect(try service.value("SELECT is_verified::text FROM users WHERE id = $1", [user.id]) == "true")
        #expect(service.me(try service.login(user.email, "RecoveredPass123")).json?["is_verified"] == true)
    }

    /// `verify-email-request` mails the account's own address, at most `VERIFY_EMAIL_MAX_PER_HOUR` times an hour.
    @Test func verificationMailsOnRequestAreLimitedPerAccount() throws {
        let service = try TestService(["VERIFY_EMAIL_MAX_PER_HOUR": "2"])
        let (user, tokens) = try service.newUser()
        let (other, otherTokens) = try service.newUser()
        func ask(_ tokens: TestService.Tokens) -> TestResponse {
            service.request("POST", "/api/v1/auth/verify-email-request", token: tokens.access)
        }
        for _ in 0..<2 { #expect(ask(tokens).status == .accepted) }
        let refused = ask(tokens)
        #expect(refused.status == .tooManyRequests && refused.detail == "Too many verification emails. Try again later.")
        #expect((1...3600).contains(Int(refused.header("Retry-After") ?? "") ?? 0))
        #expect(try service.mailCount(to: user.email, .emailVerification) == 3)  // the registration's, then two
        #expect(ask(otherTokens).status == .accepted)
        #expect(try service.mailCount(to: other.email, .emailVerification) == 2)
        try service.shift("mail_link_requests", ["window_started_at"], by: 3600)
        #expect(ask(tokens).status == .accepted)
    }

    /// `change-email` at most `CHANGE_EMAIL_MAX_PER_HOUR` times an hour per account, every attempt counted before the
    /// password is checked; its own count, apart from `verify-email-request`'s.
    @Test func addressChangesAreLimitedPerAccount() throws {
        let service = try TestService(["CHANGE_EMAIL_MAX_PER_HOUR": "3", "VERIFY_EMAIL_MAX_PER_HOUR": "1"])
        let (user, tokens) = try service.newUser()
        #expect(service.changeEmail(tokens, to: "victim@example.com", password: "WrongPass123").status == .badRequest)
        for _ in 0..<2 { #expect(service.changeEmail(tokens, to: "victim@example.com").status == .accepted) }
        let refused = service.changeEmail(tokens, to: "victim@example.com")
        #expect(refused.status == .tooManyRequests && refused.detail == "Too many email changes. Try again later.")
        #expect((1...3600).contains(Int(refused.header("Retry-After") ?? "") ?? 0))
        #expect(try service.mailCount(to: "victim@example.com", .emailVerification) == 2)
        #expect(try service.mailCount(to: user.email, .emailChangeNotice) == 2)
        #expect(service.request("POST", "/api/v1/auth/verify-email-request", token: tokens.access).status == .accepted)
        try service.shift("mail_link_requests", ["window_started_at"], by: 3600)
        #expect(service.changeEmail(tokens, to: "victim@example.com").status == .accepted)
    }

    /// A confirmation of a pending change and a newer change asked for at once (the test holds the account's row):
    /// whichever goes first, exactly one change is left pending — the newer one, from the address the account has —
    /// and the confirmation took effect only if it went first.
    @Test func aConfirmationRacingANewChangeOfAddress() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        #expect(service.changeEmail(tokens, to: "first@example.com").status == .accepted)
        let first = try service.mailedToken(to: "first@example.com", .emailVerification)
        try service.database.query("BEGIN")
        try service.database.query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", [user.id])
        let verify = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/auth/verify-email", json: .object([("token", .string(first))])))
        let change = try SecondWorker(service.configuration, TestService.httpRequest(
            "POST", "/api/v1/auth/change-email", json: .object([("new_email", "second@example.com"), ("password", .string(TestService.password))]),
            token: tokens.access))
        try service.waitForWaiter("the confirmation and the change", waiters: 2)
        try service.database.query("COMMIT")
        let (verified, changed) = (try verify.response(), try change.response())
        #expect(changed.status == .accepted)
        let address = try #require(try service.value("SELECT email FROM users WHERE id = $1", [user.id]))
        if verified.status == .ok {
            #expect(address == "first@example.com")
        } else {
            #expect(verified.text == invalidToken && address == user.email)
        }
        #expect(try service.value("""
            SELECT string_agg(email || ' replacing ' || replaces_email, ', ') FROM email_verifications
            WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND replaces_email IS NOT NULL
            """, [user.id]) == "second@example.com replacing \(address)")
        #expect(service.verifyEmail(try service.mailedToken(to: "second@example.com", .emailVerification)).status == .ok)
        #expect(service.me(tokens).json?["email"]?.string == "second@example.com")
    }
}
