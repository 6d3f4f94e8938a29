import Crypto
import HTTP
import Postgres
import Testing
@testable import UserService

/// Mail composition without I/O: the encodings, the message's shape, addresses, templates, retries, settings.
@Suite struct MailMessageTests {
    /// Quoted-printable back to bytes (RFC 2045 §6.7), for checking what was encoded.
    static func decodeQuotedPrintable(_ text: String) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "="), bytes.starts(with: [13, 10]) {
                bytes = bytes.dropFirst(2)
            } else if byte == UInt8(ascii: "="), let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(value)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decodeEncodedWord(_ word: String) -> String? {
        guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?=") else { return nil }
        let base64 = word.dropFirst(10).dropLast(2).filter { $0 != "=" }.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }
        return Base64URL.decode(Array(String(base64).utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func quotedPrintableKeepsLinesShortAndRoundTrips() {
        let text = "Grüße aus Köln = 100 %\n" + String(repeating: "é-long line ", count: 30) + "\r\nend with space \nlast"
        let encoded = MIMEEncoding.quotedPrintable(text)
        let lines = encoded.split(separator: "\r\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(encoded.utf8.allSatisfy { $0 < 0x80 } && !Array(encoded.utf8).split(separator: 13).dropFirst().contains { $0.first != 10 })
        #expect(encoded.contains("=3D 100 %") && encoded.contains("space=20\r\n"))
        #expect(Self.decodeQuotedPrintable(encoded) == text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }.joined(separator: "\r\n"))
    }

    @Test func encodedWordsHoldWholeCharactersAndDecodeBack() {
        let subject = String(repeating: "Réinitialisez ✉ 😀 ", count: 6)
        let words = MIMEEncoding.encodedWords(subject)
        #expect(words.count > 1 && words.allSatisfy { $0.utf8.count <= 75 })
        #expect(words.map { Self.decodeEncodedWord($0)! }.joined() == subject)
        #expect(MIMEEncoding.base64(Array("any carnal pleas".utf8)) == "YW55IGNhcm5hbCBwbGVhcw==")
    }

    /// One grapheme cluster may be any length (a letter with 400 combining accents is 801 octets): words are cut
    /// between scalars, so none passes RFC 2047's 75 characters and no header line passes 78.
    @Test func encodedWordsCutALongGraphemeClusterBetweenScalars() {
        let subject = "Hi a" + String(repeating: "\u{301}", count: 400)
        let words = MIMEEncoding.encodedWords(subject)
        #expect(words.count > 10 && words.allSatisfy { $0.utf8.count <= 75 })
        #expect(words.map { Self.decodeEncodedWord($0)! }.joined() == subject)
        let lines = String(decoding: Self.message(subject: subject).bytes, as: UTF8.self).split(separator: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 78 })
        // A sender's display name (MAIL_FROM) likewise: the line that ends with the address stays under 998 octets.
        let name = MailAddress(mailbox: "Ser" + String(repeating: "\u{301}", count: 400) + " <no-reply@example.com>")!
        #expect(name.header.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 998 })
    }

    static let from = MailAddress(mailbox: "Service Élan <no-reply@mail.example.com>")!

    static func message(subject: String = "Reset your password", text: String = "Hello\nLink: https://x/y?token=t",
                        html: String = "<p>Hello</p>") -> MailMessage {
        MailMessage(from: from, to: MailAddress(recipient: "user@example.com")!, subject: subject,
                    date: PostgresTimestamp(microsecondsSinceEpoch: 1_796_494_749_000_000),
                    messageID: "0b6c1d2e-0000-4000-8000-000000000001@mail.example.com", text: text, html: html)
    }

    @Test func messageIsCRLFSevenBitWithTheHeadersAndTwoParts() {
        let text = String(decoding: Self.message().bytes, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        #expect(text.hasSuffix("\r\n") && !Array(text.utf8).enumerated().contains { $0.element == 10 && Array(text.utf8)[$0.offset - 1] != 13 })
        #expect(lines.allSatisfy { $0.utf8.count <= 78 } && text.utf8.allSatisfy { $0 < 0x80 })
        #expect(lines.contains("Date: Sat, 05 Dec 2026 18:19:09 +0000"))
        #expect(lines.contains("Message-ID: <0b6c1d2e-0000-4000-8000-000000000001@mail.example.com>"))
        #expect(lines.contains("To: user@example.com") && lines.contains("Subject: Reset your password"))
        #expect(lines.contains("MIME-Version: 1.0") && lines.contains("Content-Type: multipart/alternative;"))
        #expect(lines.contains(" boundary=\"=_0b6c1d2e-0000-4000-8000-000000000001\""))
        #expect(lines.filter { $0 == "--=_0b6c1d2e-0000-4000-8000-000000000001" }.count == 2)
        #expect(lines.last(where: { !$0.isEmpty }) == "--=_0b6c1d2e-0000-4000-8000-000000000001--")
        #expect(lines.contains("Content-Type: text/plain; charset=utf-8") && lines.contains("Content-Type: text/html; charset=utf-8"))
        // The sender's non-ASCII name as an encoded word.
        #expect(lines.contains("From: \(MIMEEncoding.encodedWords("Service Élan")[0]) <no-reply@mail.example.com>"))
    }

    @Test func subjectsAreEncodedWhenNotPlainOrTooLong() {
        #expect(MailMessage.subjectHeader("Reset your password") == "Reset your password")
        let long = String(repeating: "a", count: 80)
        #expect(MailMessage.subjectHeader(long).hasPrefix("=?UTF-8?B?"))
        let folded = MailMessage.subjectHeader("Vérifiez votre adresse")
        #expect(folded.split(separator: "\r\n ").map { Self.decodeEncodedWord(String($0))! }.joined() == "Vérifiez votre adresse")
        // Text that looks like an encoded word is encoded itself, so it cannot be read as one.
        #expect(MailMessage.subjectHeader("=?UTF-8?B?SGk=?=").hasPrefix("=?UTF-8?B?") && MailMessage.subjectHeader("=?UTF-8?B?SGk=?=") != "=?UTF-8?B?SGk=?=")
    }

    @Test func addressesThatCouldAddAHeaderOrARecipientAreRefused() {
        for valid in ["user@example.com", "o'brien+x&y@sub.example.co", "a.b-c_d@x-y.example"] {
            #expect(MailAddress(recipient: valid)?.address == valid, "\(valid)")
        }
        for invalid in ["user@example.com\r\nBcc: x@example.com", "user@example.com\n", "a b@example.com", "<user@example.com>",
                        "user@example.com, x@example.com", "userexample.com", "@example.com", "user@", "user@.example.com",
                        "user..x@example.com", "üser@example.com", "\"quoted\"@example.com", "user@[127.0.0.1]", "",
                        "user@exämple.com", "a<b>@example.com", "a,b@example.com", ".a@example.com", "a.@example.com",
                        "user@-example.com", "user@example-.com", String(repeating: "l", count: 65) + "@example.com",
                        "user@" + String(repeating: "d", count: 64) + ".com"] {
            #expect(MailAddress(recipient: invalid) == nil, "\(invalid)")
        }
        let named = MailAddress(mailbox: "  \"User Service\" <no-reply@example.com> ")
        #expect(named?.address == "no-reply@example.com" && named?.displayName == "User Service" && named?.domain == "example.com")
        #expect(named?.header == "\"User Service\" <no-reply@example.com>")
        #expect(MailAddress(mailbox: "no-reply@example.com")?.header == "no-reply@example.com")
        #expect(MailAddress(mailbox: "Evil\r\nBcc: x@example.com <no-reply@example.com>") == nil)
        #expect(MailAddress(mailbox: "Evil \"quote <no-reply@example.com>") == nil)
    }

    static let resetText = "Subject: Reset your password\n\nHi {{email}}: {{link}} until {{expires}}.\n"
    static let resetHTML = "<a href=\"{{link}}\">{{link}}</a> for {{email}}"

    @Test func templatesFollowTheirRules() throws {
        func problem(_ kind: OutgoingMail.Kind, _ text: String, _ html: String) -> String? {
            do {
                _ = try MailTemplates.parse(kind, text: text, html: html)
                return nil
            } catch {
                return error.problem
            }
        }
        #expect(problem(.passwordReset, Self.resetText, Self.resetHTML) == nil)
        #expect(problem(.passwordReset, "Subject: Reset\r\n\r\nHi {{link}}\r\n", Self.resetHTML) == nil)  // CRLF files too
        #expect(problem(.passwordReset, "Hi {{link}}", Self.resetHTML)?.contains("Subject:") == true)
        #expect(problem(.passwordReset, "Subject: {{email}}\n\n{{link}}", Self.resetHTML)?.contains("no placeholder") == true)
        #expect(problem(.passwordReset, "Subject: x\n\n{{link}} {{link}}", Self.resetHTML) == "must hold {{link}} exactly once")
        #expect(problem(.passwordReset, "Subject: x\n\nno link", Self.resetHTML) == "must hold {{link}} exactly once")
        #expect(problem(.passwordReset, Self.resetText, "<p>no link</p>") == "must hold {{link}}")
        #expect(problem(.passwordReset, "Subject: x\n\n{{link}} {{token}}", Self.resetHTML)?.contains("unknown placeholder") == true)
        #expect(problem(.passwordChanged, "Subject: x\n\n{{link}}", "") == "is a notice: it has no {{link}} and no {{expires}}")
        #expect(problem(.emailChangeNotice, "Subject: x\n\nfor {{email}}", "until {{expires}}") == "is a notice: it has no {{link}} and no {{expires}}")
    }

    @Test func theShippedTemplatesLoadAndValuesAreEscapedInTheHTMLOnly() throws {
        let directory = shippedMigrationsPath().replacingLastComponent(with: "mail/templates")
        let templates = try MailTemplates.load(directory: directory)
        let composer = MailComposer(templates: templates, from: Self.from, publicBaseURL: "https://app.example.com/base")
        let mail = MailQueue.LeasedMail(id: "0b6c1d2e-0000-4000-8000-000000000001", kind: .passwordReset,
                                        recipient: "o'brien+x&y@example.com", token: "a+b/c=d", expiresAt: nil, attempts: 1, rejections: 0,
                                        leasedUntil: "", leaseSeconds: 40)
        let message = try composer.message(for: mail, at: PostgresTimestamp(microsecondsSinceEpoch: 0))
        #expect(message.messageID == "0b6c1d2e-0000-4000-8000-000000000001@mail.example.com")
        #expect(message.text.contains("https://app.example.com/base/reset-password?token=a%2Bb%2Fc%3Dd\n"))
        #expect(message.text.contains("o'brien+x&y@example.com") && message.html.contains("o&#39;brien+x&amp;y@example.com"))
        // No token, no link: such a mail can never be built and is given up rather than retried.
        let tokenless = MailQueue.LeasedMail(id: mail.id, kind: .emailVerification, recipient: "u@example.com", token: nil,
                                             expiresAt: nil, attempts: 1, rejections: 0, leasedUntil: "", leaseSeconds: 40)
        #expect(throws: MailComposer.Failure.self) { try composer.message(for: tokenless, at: PostgresTimestamp(microsecondsSinceEpoch: 0)) }
        let notice = MailQueue.LeasedMail(id: mail.id, kind: .passwordChanged, recipient: "u@example.com", token: "ignored",
                                          expiresAt: nil, attempts: 1, rejections: 0, leasedUntil: "", leaseSeconds: 40)
        let noticeMessage = try composer.message(for: notice, at: PostgresTimestamp(microsecondsSinceEpoch: 0))
        #expect(!noticeMessage.text.contains("http") && !noticeMessage.html.contains("http") && !noticeMessage.text.contains("ignored"))
        #expect(MailComposer.expiryText(PostgresTimestamp(microsecondsSinceEpoch: 1_796_494_749_000_000)) == "2026-12-05 18:19 UTC")
    }

    @Test func retriesStartWithinTenSecondsDoubleAndCoverADayByDefault() {
        let schedule = RetrySchedule(maximumDelaySeconds: 60)
        #expect((1...7).map { schedule.delay(afterAttempt: $0) } == [5, 10, 20, 40, 60, 60, 60])
        let waits = (1..<schedule.maximumAttempts).map { schedule.delay(afterAttempt: $0) }
        #expect(waits.reduce(0, +) >= 86_400 && waits.dropLast().reduce(0, +) < 86_400)
        #expect(schedule.maximumAttempts == 1444)  // the figure env.example and the README give
        #expect(schedule.nextAttempt(afterAttempt: schedule.maximumAttempts) == nil)
        #expect(schedule.nextAttempt(afterAttempt: schedule.maximumAttempts - 1) == 60)
        #expect(RetrySchedule(maximumDelaySeconds: 60, maximumAttempts: 3).nextAttempt(afterAttempt: 3) == nil)
        #expect(RetrySchedule(maximumDelaySeconds: 3600).maximumAttempts < schedule.maximumAttempts)
    }

    @Test func mailSettingsAreCheckedAndOnlyTheMailerNeedsThem() throws {
        let minimal = ["DATABASE_URL": "postgresql://u@db/x", "JWT_SECRET_KEY": String(repeating: "s", count: 32)]
        func load(_ extra: [String: String]) throws -> MailSettings {
            try Configuration.load(from: minimal.merging(extra) { $1 }, defaultWorkers: 1).mail
        }
        let none = try load([:])  // the pool and cleanup start without any
        #expect(none.smtpPort == 587 && none.smtpSecurity == .starttls && none.retentionDays == 30 && none.templatesDirectory == "mail/templates")
        #expect(throws: ConfigurationError(variable: "SMTP_HOST", problem: "is required to send mail")) { _ = try none.delivery() }
        #expect(try load(["SMTP_SECURITY": "tls"]).smtpPort == 465)
        let full = try load(["SMTP_HOST": "relay.example.com", "MAIL_FROM": "Svc <no-reply@example.com>",
                             "PUBLIC_BASE_URL": "https://app.example.com/", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "hunter2secret"])
        let delivery = try full.delivery()
        #expect(delivery.publicBaseURL == "https://app.example.com" && delivery.relay.url == "smtp://relay.example.com:587")
        #expect(!"\(delivery.relay)".contains("hunter2secret") && !"\(full)".contains("hunter2secret"))
        for (name, value) in [("SMTP_SECURITY", "ssl"), ("SMTP_PORT", "0"), ("MAIL_FROM", "not an address"),
                              ("PUBLIC_BASE_URL", "app.example.com"), ("PUBLIC_BASE_URL", "https://app.example.com/#x"),
                              ("PUBLIC_BASE_URL", "https://user@app.example.com"), ("PUBLIC_BASE_URL", "https://app.example.com/a b"),
                              ("MAIL_RETRY_MAX_SECONDS", "5"), ("MAIL_MAX_ATTEMPTS", "0"), ("SMTP_PASSWORD", "only-a-password"),
                              ("SMTP_TIMEOUT_SECONDS", "601"), ("MAIL_POLL_SECONDS", "0")] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") { _ = try load([name: value]) }
        }
        #expect(throws: ConfigurationError(variable: "SMTP_USERNAME", problem: "needs SMTP_SECURITY starttls or tls (a password is never sent in clear)")) {
            _ = try load(["SMTP_SECURITY": "none", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p"])
        }
        #expect(try load(["MAIL_MAX_ATTEMPTS": "7"]).retry.maximumAttempts == 7)
        #expect(try none.pollSeconds == 30 && load(["MAIL_POLL_SECONDS": "3600"]).pollSeconds == 3600)
        // SMTP_HOST names a host, nothing a URL would read otherwise.
        for host in ["relay.example.com", "127.0.0.1", "::1", "2001:db8::25", "localhost", "mx-1.example.co"] {
            #expect(try load(["SMTP_HOST": host]).smtpHost == host, "\(host)")
        }
        for host in ["user:pass@relay.example.com", "relay.example.com/path", "relay.example.com:25", "[::1]", "relay example.com",
                     "relay.example.com?x", "-relay.example.com", "relay..example.com", "smtp://relay.example.com", "rélay.example.com"] {
            #expect(throws: ConfigurationError(variable: "SMTP_HOST", problem: "must be a host name or an IP address (no login, port or path)"),
                    "\(host)") { _ = try load(["SMTP_HOST": host]) }
        }
        let local = try load(["SMTP_HOST": "localhost", "SMTP_UNIX_SOCKET": "/run/x/smtp.sock", "MAIL_FROM": "a@localhost",
                              "PUBLIC_BASE_URL": "http://127.0.0.1"]).delivery()
        #expect(local.relay.unixSocket == "/run/x/smtp.sock" && local.relay.url == "smtp://localhost:587")
        #expect(throws: ConfigurationError.self) { _ = try load(["SMTP_UNIX_SOCKET": "run/smtp.sock"]) }
    }
}

extension String {
    /// `/a/b/Migrations` → `/a/b/NAME`.
    func replacingLastComponent(with name: String) -> String {
        String(self[..<(lastIndex(of: "/") ?? endIndex)]) + "/" + name
    }
}
