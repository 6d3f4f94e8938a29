import HTTP
import Postgres
import Testing
@testable import UserService

/// `UsersImporter` on a real schema, line by line as `user-service users import` feeds it: when a batch is written,
/// and how the FastAPI service's premium flag comes in. The command itself (files, exit codes, messages) is tested
/// end to end in `Tests/e2e/test_users_cli.py`.
@Suite struct UsersImportTests {
    static let hash = "$2b$04$abcdefghijklmnopqrstuu5Tf3wHz/5WmL7lTQV1M0uf0Pq3wE1ry"

    func line(_ name: String, _ extra: [(String, JSONValue)] = []) -> ArraySlice<UInt8> {
        let members: [(String, JSONValue)] = [("email", .string("\(name)@example.com")), ("username", .string(name)),
                                              ("hashed_password", .string(Self.hash))]
        return Array(JSONValue.object(members + extra).text.utf8)[...]
    }

    @Test func aBatchIsWrittenWhenItsLinesReachTheByteBoundNotOnlyTheLineCount() throws {
        let service = try TestService()
        var problems: [String] = []
        let importer = UsersImporter(connection: service.database, withRoles: false, batchSize: 1000, batchBytes: 64 << 10) {
            problems.append("\($0): \($1)")
        }
        // Keys the import does not read still take memory until the batch is written: 30 KB each.
        let padding: [(String, JSONValue)] = [("profile", .object([("notes", .string(String(repeating: "x", count: 30_000)))]))]
        try importer.add(line: 1, line("big_one", padding))
        try importer.add(line: 2, line("big_two", padding))
        #expect(try importer.report.imported == 0 && service.count("SELECT count(*) FROM users") == 0)
        // The third passes 64 KiB: the three are written now, long before 1000 lines.
        try importer.add(line: 3, line("big_three", padding))
        #expect(try importer.report.imported == 3 && service.count("SELECT count(*) FROM users") == 3)
        try importer.add(line: 4, line("small_one"))
        try importer.flush()
        #expect(importer.report.imported == 4 && problems.isEmpty)
        #expect(try service.count("SELECT count(*) FROM user_profiles") == 3)
    }

    @Test func isPremiumWithoutAPlanBecomesAYearOfPremiumAndThePlanDecidesWhenThereIsOne() throws {
        let service = try TestService()
        var problems: [Int] = []
        let importer = UsersImporter(connection: service.database, withRoles: false) { line, _ in problems.append(line) }
        try importer.add(line: 1, line("legacy_premium", [("is_premium", .bool(true))]))
        try importer.add(line: 2, line("legacy_basic", [("is_premium", .bool(false))]))
        try importer.add(line: 3, line("lapsed_plan", [("is_premium", .bool(true)), ("premium_plan", .string("monthly")),
                                                       ("premium_expires_at", .string("2020-01-01T00:00:00+00:00"))]))
        try importer.add(line: 4, line("bad_flag", [("is_premium", .string("yes"))]))
        try importer.flush()
        #expect(importer.report.imported == 3 && importer.report.skipped == 1 && problems == [4])
        #expect(importer.report.legacyPremium == 1)
        func premium(_ username: String) throws -> String? {
            try service.value("""
                SELECT coalesce(premium_plan, '-') || ' ' || coalesce(premium_expires_at > now(), false)::text || ' '
                       || coalesce((premium_expires_at > now() + interval '364 days' AND premium_expires_at <= now() + interval '1 year')::text, '-')
                FROM users WHERE username = $1
                """, [username])
        }
        // One year from the import, yearly: what an upgrade to the yearly plan would have given.
        #expect(try premium("legacy_premium") == "yearly true true")
        #expect(try premium("legacy_basic") == "- false -")
        // A plan and an expiry are the subscription as it was: the flag does not extend a lapsed one.
        #expect(try premium("lapsed_plan") == "monthly false false")
    }
}
