import HTTP
import Postgres
import Testing
@testable import UserService

/// What the profile and preferences tests share: requests on the caller's own resources and the 422 entries.
extension TestService {
    func get(_ path: String, _ tokens: Tokens) -> TestResponse { request("GET", path, token: tokens.access) }

    func put(_ path: String, _ tokens: Tokens, _ members: [(String, JSONValue)]) -> TestResponse {
        request("PUT", path, json: .object(members), token: tokens.access)
    }

    /// A PUT that must answer 200: its body.
    @discardableResult
    func saved(_ path: String, _ tokens: Tokens, _ members: [(String, JSONValue)]) throws -> JSONValue {
        let response = put(path, tokens, members)
        try #require(response.status == .ok, "\(path): \(response.status.code) \(response.text)")
        return try #require(response.json)
    }

    /// Whether a statement is refused by the named CHECK constraint (23514), run on the test's own connection.
    func violates(_ constraint: String, _ sql: String, _ parameters: [(any PostgresBindable)?]) -> Bool {
        do {
            try database.query(sql, parameters)
            return false
        } catch {
            return error.sqlState == .checkViolation && error.constraint == constraint
        }
    }
}

/// A 422's entries, each by "loc type" (loc joined with dots), e.g. `body.skills.0 string_too_long`.
func validationIssues(_ response: TestResponse) throws -> [String: JSONValue] {
    try #require(response.status == .unprocessableEntity, "\(response.status.code) \(response.text)")
    var issues: [String: JSONValue] = [:]
    for item in try #require(response.json?["detail"]?.array) {
        let location = try #require(item["loc"]?.array).map { $0.string ?? $0.int.map(String.init) ?? "?" }.joined(separator: ".")
        issues[location + " " + (try #require(item["type"]?.string))] = item
    }
    return issues
}

/// `count` copies of a two-byte character: a string `count` code points long and twice as many bytes.
func codePoints(_ count: Int) -> JSONValue { .string(String(repeating: "é", count: count)) }

func strings(_ count: Int, length: Int = 3) -> JSONValue {
    .array((0..<count).map { .string(String(repeating: "x", count: max(0, length - String($0).count)) + String($0)) })
}
