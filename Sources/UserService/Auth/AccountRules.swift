/// What an email address and a username must look like.
enum AccountRules {
    static let usernameMessage = "Username must be 3 to 32 characters: letters, digits, '_', '.' or '-'"

    /// An address mail can be sent to (`MailAddress.isValid`: RFC 5321's dot-atom form in ASCII, so `a..b@`,
    /// `a<b>@`, `a,b@` are refused, as pydantic's EmailStr does) with a domain of at least two labels
    /// (`user@localhost` is not an account's address). Internationalized addresses (`josé@`, `@exämple.com`) are
    /// refused as well: the service could not deliver their links (see `emailProblem`).
    static func isValidEmail(_ email: String) -> Bool {
        MailAddress.isValid(email) && email.split(separator: "@").last?.contains(".") == true
    }

    /// What is wrong with an address that `isValidEmail` refuses, as pydantic's email-validator words it.
    static func emailProblem(_ email: String) -> String {
        email.unicodeScalars.allSatisfy(\.isASCII)
            ? "value is not a valid email address: An email address must have an @-sign and a valid domain."
            : "value is not a valid email address: Internationalized addresses are not supported: use only ASCII characters."
    }

    static func isValidUsername(_ username: String) -> Bool {
        (3...32).contains(username.utf8.count)
            && username.utf8.allSatisfy { byte in
                (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
            }
    }
}
