import Postgres

/// One mail as RFC 5322 bytes: CRLF line endings, every line within 78 octets (the Message-ID's within 998: it
/// holds MAIL_FROM's domain), 7-bit throughout — UTF-8 text travels as quoted-printable bodies and RFC 2047 encoded words — and a
/// multipart/alternative body with a plain-text and an HTML part.
struct MailMessage {
    let from: MailAddress
    let to: MailAddress
    let subject: String
    let date: PostgresTimestamp
    /// Without the angle brackets: `id@domain`.
    let messageID: String
    let text: String
    let html: String

    /// The message, ready for the relay.
    var bytes: [UInt8] {
        // `=_` cannot occur in quoted-printable (an `=` is always followed by two hex digits or a line break):
        // the boundary cannot appear in either part.
        let boundary = "=_" + messageID.prefix { $0 != "@" }
        var lines = [
            "Date: \(Self.dateHeader(date))",
            "From: \(from.header)",
            "To: \(to.address)",
            "Subject: \(Self.subjectHeader(subject))",
            "Message-ID: <\(messageID)>",
            // RFC 3834: an automatic message; well-behaved auto-responders do not answer it.
            "Auto-Submitted: auto-generated",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"",
            "",
        ]
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            lines += ["--\(boundary)", "Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
                      MIMEEncoding.quotedPrintable(body)]
        }
        lines.append("--\(boundary)--")
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// Plain ASCII when it fits on the header's line; otherwise encoded words, one per folded line.
    static func subjectHeader(_ subject: String) -> String {
        let plain = subject.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && !subject.contains("=?")
        if plain && "Subject: ".utf8.count + subject.utf8.count <= 78 { return subject }
        return MIMEEncoding.encodedWords(subject).joined(separator: "\r\n ")
    }

    /// RFC 5322 §3.3 in UTC: `Sat, 05 Dec 2026 17:19:09 +0000`.
    static func dateHeader(_ time: PostgresTimestamp) -> String {
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let t = time.utc
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[t.weekday]), \(two(t.day)) \(months[t.month - 1]) \(t.year) \(two(t.hour)):\(two(t.minute)):\(two(t.second)) +0000"
    }
}
