/// The mails' words, in files a deployer can change (`MAIL_TEMPLATES_DIR`; the shipped ones are in
/// `mail/templates/`). Each kind has two files: `KIND.txt` — a `Subject:` line, an empty line, then the plain-text
/// body — and `KIND.html`, the HTML body. `{{link}}`, `{{email}}` and `{{expires}}` are replaced by the mail's values,
/// HTML-escaped in the HTML part. All files are read and checked when the mailer starts; a problem stops it with
/// one line naming the file.
public struct MailTemplates: Sendable {
    enum Placeholder: String, CaseIterable, Sendable {
        /// The one link of a mail with a token: `PUBLIC_BASE_URL` + the kind's path + `?token=`.
        case link
        /// The recipient's address.
        case email
        /// When the token expires, in UTC (`2026-12-05 18:19 UTC`).
        case expires
    }

    enum Piece: Sendable, Equatable {
        case literal(String)
        case value(Placeholder)
    }

    struct Template: Sendable {
        let subject: String
        let text: [Piece]
        let html: [Piece]
    }

    let templates: [OutgoingMail.Kind: Template]

    public static func load(directory: String) throws(MailTemplateError) -> MailTemplates {
        var templates: [OutgoingMail.Kind: Template] = [:]
        for kind in OutgoingMail.Kind.allCases {
            let textPath = "\(directory)/\(kind.rawValue).txt", htmlPath = "\(directory)/\(kind.rawValue).html"
            guard let text = FileReader.readText(textPath) else { throw MailTemplateError(file: textPath, problem: "cannot be read") }
            guard let html = FileReader.readText(htmlPath) else { throw MailTemplateError(file: htmlPath, problem: "cannot be read") }
            templates[kind] = try parse(kind, text: text, html: html, textFile: textPath, htmlFile: htmlPath)
        }
        return MailTemplates(templates: templates)
    }

    static func parse(_ kind: OutgoingMail.Kind, text: String, html: String, textFile: String = "text",
                      htmlFile: String = "html") throws(MailTemplateError) -> Template {
        // Line ends as LF only (a file saved with CRLF too): the message gets CRLF when it is encoded.
        func lf(_ text: String) -> String { String(decoding: text.utf8.filter { $0 != 13 }, as: UTF8.self) }
        let lines = lf(text).split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        let subjectLine = lines.first ?? ""
        guard subjectLine.hasPrefix("Subject:"), lines.count == 3, lines[1].isEmpty else {
            throw MailTemplateError(file: textFile, problem: "must start with a `Subject:` line and an empty line")
        }
        let subject = subjectLine.dropFirst("Subject:".count).trimmingWhitespace()
        guard !subject.isEmpty, !subject.contains("{{"), subject.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw MailTemplateError(file: textFile, problem: "needs a subject of plain text (no placeholder, no control character)")
        }
        let textPieces = try pieces(String(lines[2]), file: textFile)
        let htmlPieces = try pieces(lf(html), file: htmlFile)
        let links = (textPieces.filter { $0 == .value(.link) }.count, htmlPieces.filter { $0 == .value(.link) }.count)
        if kind.linkPath != nil {
            // Exactly one link in each part: the text shows it once; the HTML may name it in `href` and as its text.
            guard links.0 == 1 else { throw MailTemplateError(file: textFile, problem: "must hold {{link}} exactly once") }
            guard links.1 >= 1 else { throw MailTemplateError(file: htmlFile, problem: "must hold {{link}}") }
        } else {
            for (file, parts) in [(textFile, textPieces), (htmlFile, htmlPieces)]
            where parts.contains(.value(.link)) || parts.contains(.value(.expires)) {
                throw MailTemplateError(file: file, problem: "is a notice: it has no {{link}} and no {{expires}}")
            }
        }
        return Template(subject: subject, text: textPieces, html: htmlPieces)
    }

    /// The template's text cut at its placeholders; an unknown `{{name}}` is an error.
    private static func pieces(_ template: String, file: String) throws(MailTemplateError) -> [Piece] {
        var pieces: [Piece] = []
        var rest = Substring(template)
        while let open = rest.firstRange(of: "{{") {
            guard let close = rest[open.upperBound...].firstRange(of: "}}"),
                  let placeholder = Placeholder(rawValue: String(rest[open.upperBound..<close.lowerBound])) else {
                throw MailTemplateError(file: file, problem: "has an unknown placeholder (known: {{link}}, {{email}}, {{expires}})")
            }
            if open.lowerBound > rest.startIndex { pieces.append(.literal(String(rest[..<open.lowerBound]))) }
            pieces.append(.value(placeholder))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        return pieces
    }

    /// The subject, text and HTML of `kind` with `values` put in (HTML-escaped in the HTML).
    func render(_ kind: OutgoingMail.Kind, _ values: [Placeholder: String]) -> (subject: String, text: String, html: String) {
        let template = templates[kind]!
        func fill(_ pieces: [Piece], escape: (String) -> String) -> String {
            pieces.map { piece in
                switch piece {
                case .literal(let text): return text
                case .value(let name): return escape(values[name] ?? "")
                }
            }.joined()
        }
        return (template.subject, fill(template.text) { $0 }, fill(template.html, escape: Self.escapeHTML))
    }

    static func escapeHTML(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// A template that cannot be used, named by its file.
public struct MailTemplateError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public var description: String { "mail template \(file) \(problem)" }
}
