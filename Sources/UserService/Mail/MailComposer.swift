import HTTP
import Postgres

/// Turns a leased outbox row into the message to send: the kind's template with the mail's values, the link built
/// from `PUBLIC_BASE_URL`, and the `Message-ID` `<row id@domain of MAIL_FROM>` — the same on every attempt.
struct MailComposer {
    let templates: MailTemplates
    let from: MailAddress
    let publicBaseURL: String

    /// Why a mail can never be built (so it is given up at once rather than retried).
    enum Failure: Error, CustomStringConvertible {
        case invalidRecipient
        case missingToken

        var description: String {
            switch self {
            case .invalidRecipient: return "the recipient is not an address mail can be sent to"
            case .missingToken: return "the mail has no token for its link"
            }
        }
    }

    func message(for mail: MailQueue.LeasedMail, at now: PostgresTimestamp) throws(Failure) -> MailMessage {
        guard let recipient = MailAddress(recipient: mail.recipient) else { throw .invalidRecipient }
        var values: [MailTemplates.Placeholder: String] = [.email: recipient.address]
        if let path = mail.kind.linkPath {
            guard let token = mail.token, !token.isEmpty else { throw .missingToken }
            values[.link] = link(path, token: token)
            values[.expires] = mail.expiresAt.map(Self.expiryText) ?? ""
        }
        let rendered = templates.render(mail.kind, values)
        return MailMessage(from: from, to: recipient, subject: rendered.subject, date: now,
                           messageID: "\(mail.id)@\(from.domain)", text: rendered.text, html: rendered.html)
    }

    /// `PUBLIC_BASE_URL` + the kind's page + `?token=` (the token percent-encoded: base64url or hex needs none,
    /// but a link must stay one link whatever it holds).
    func link(_ path: String, token: String) -> String {
        "\(publicBaseURL)\(path)?token=\(PercentEncoding.queryValue(token))"
    }

    /// `2026-12-05 18:19 UTC`
    static func expiryText(_ time: PostgresTimestamp) -> String {
        let t = time.utc
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(t.year)-\(two(t.month))-\(two(t.day)) \(two(t.hour)):\(two(t.minute)) UTC"
    }
}

extension OutgoingMail.Kind {
    /// The front end's page a mail of this kind links to; nil for notices, which carry no link.
    var linkPath: String? {
        switch self {
        case .passwordReset: return "/reset-password"
        case .emailVerification: return "/verify-email"
        case .passwordChanged, .emailChangeNotice: return nil
        }
    }
}
