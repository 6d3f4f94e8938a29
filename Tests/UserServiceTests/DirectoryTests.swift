import HTTP
import Postgres
import Testing
@testable import UserService

/// The directory (issue 14, item 3): premium only, visibility rules in search and lookups, the public view's exact
/// fields, a 404 that tells nothing, FastAPI's 422 for a path that is not a UUID, filters, ranking, paging, and
/// the per-account limit. Listed users are written in SQL (the triggers of 0012 keep the directory), callers
/// through the API.
@Suite struct DirectoryTests {
    static let hash = "$2b$04$abcdefghijklmnopqrstuu5Tf3wHz/5WmL7lTQV1M0uf0Pq3wE1ry"

    /// A user with a saved profile of `visibility` (and preferences), written in SQL; its id.
    @discardableResult
    func listed(_ service: TestService, _ username: String, fullName: String? = nil, title: String? = nil, location: String? = nil,
                headline: String? = nil, skills: [String] = [], years: Int? = nil, visibility: String = "public",
                remote: String = "any", active: Bool = true) throws -> String {
        let id = try #require(try service.value("""
            INSERT INTO users (email, username, full_name, hashed_password, is_active, current_title, location)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
            """, ["\(username.lowercased())@example.com", username, fullName, Self.hash, active, title, location]))
        try service.database.query("""
            INSERT INTO user_profiles (user_id, headline, bio, skills, years_of_experience, phone, visibility, education, work_history, github_url)
            VALUES ($1, $2, 'A bio.', ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4, '+14155550123', $5,
                    '[{"organisation": "Uni", "title": "BSc", "start_date": "2010-09-01", "end_date": "2014-06-30", "description": null}]',
                    '[]', 'https://github.com/x')
            """, [id, headline, JSONValue.array(skills.map(JSONValue.string)).text, years, visibility])
        try service.database.query("""
            INSERT INTO user_preferences (user_id, desired_titles, preferred_locations, remote_preference, employment_types,
                                          salary_min, salary_max, salary_currency, salary_period, industries, willing_to_relocate,
                                          available_from, job_alerts, alert_frequency)
            VALUES ($1, '{Engineer}', '{Berlin}', $2, '{full_time}', 90000, 120000, 'EUR', 'year', '{Software}', true,
                    '2030-01-01', true, 'daily')
            """, [id, remote])
        return id
    }

    func makePremium(_ service: TestService, _ id: String) throws {
        try service.database.query("UPDATE users SET premium_plan = 'monthly', premium_expires_at = now() + interval '30 days' WHERE id = $1", [id])
    }

    /// A premium caller with a fresh login.
    func premiumCaller(_ service: TestService) throws -> (TestService.User, TestService.Tokens) {
        let (user, tokens) = try service.newUser()
        try makePremium(service, user.id)
        return (user, tokens)
    }

    func search(_ service: TestService, _ tokens: TestService.Tokens, _ query: String = "") -> TestResponse {
        service.request("GET", "/api/v1/users/search", token: tokens.access, query: query)
    }

    func usernames(_ response: TestResponse) throws -> [String] {
        try #require(response.status == .ok, "\(response.status.code) \(response.text)")
        return try #require(response.json?["items"]?.array).map { try #require($0["username"]?.string) }
    }

    func keys(_ value: JSONValue?) -> [String] {
        guard case .object(let members)? = value else { return [] }
        return members.map(\.0)
    }

    @Test func premiumOnlyAndLapsingAtExpiry() throws {
        let service = try TestService()
        let other = try listed(service, "visible_one")
        let (user, tokens) = try service.newUser()
        let paths = ["/api/v1/users/search", "/api/v1/users/\(other)", "/api/v1/users/\(other)/profile", "/api/v1/users/\(other)/preferences"]
        for path in paths {
            let response = service.get(path, tokens)
            #expect(response.status == .forbidden && response.detail == "Premium subscription required", "\(path): \(response.text)")
        }
        try makePremium(service, user.id)
        for path in paths { #expect(service.get(path, tokens).status == .ok, "\(path)") }
        // Lapsed: moved past the expiry in the database; the same token is refused on the next request.
        try service.database.query("UPDATE users SET premium_expires_at = now() - interval '1 second' WHERE id = $1", [user.id])
        for path in paths { #expect(service.get(path, tokens).detail == "Premium subscription required", "\(path)") }
        // Without a token: 401, as every bearer route.
        #expect(service.request("GET", "/api/v1/users/search").status == .unauthorized)
    }

    @Test func onlyActiveUsersWithAVisibleProfileAreFoundBySearchOrByID() throws {
        let service = try TestService()
        let (caller, tokens) = try premiumCaller(service)
        let publicID = try listed(service, "pub_user", visibility: "public")
        let premiumID = try listed(service, "prem_user", visibility: "premium")
        let privateID = try listed(service, "priv_user", visibility: "private")
        let inactiveID = try listed(service, "gone_user", active: false)
        // Registered, never saved a profile: the default visibility is private.
        let unsaved = try service.register()
        #expect(try usernames(search(service, tokens)) == ["prem_user", "pub_user"])
        #expect(search(service, tokens).json?["total"] == 2)
        for id in [publicID, premiumID] {
            for suffix in ["", "/profile", "/preferences"] { #expect(service.get("/api/v1/users/\(id)\(suffix)", tokens).status == .ok) }
        }
        // Hidden, inactive, never saved, the caller's own private account, and an id nobody has: the same 404.
        let missing = "6f1c2a3b-0000-4000-8000-000000000000"
        let expected = service.get("/api/v1/users/\(missing)", tokens)
        #expect(expected.status == .notFound && expected.detail == "User not found")
        for id in [privateID, inactiveID, unsaved.id, caller.id, missing] {
            for suffix in ["", "/profile", "/preferences"] {
                let response = service.get("/api/v1/users/\(id)\(suffix)", tokens)
                #expect(response.status == .notFound && response.text == expected.text && response.headers.map(\.0) == expected.headers.map(\.0),
                        "\(id)\(suffix): \(response.text)")
            }
        }
        // Changes reach the directory at once: deactivated, made private, made public again, deleted.
        try service.database.query("UPDATE users SET is_active = false WHERE id = $1", [publicID])
        try service.database.query("UPDATE user_profiles SET visibility = 'private' WHERE user_id = $1", [premiumID])
        try service.database.query("UPDATE user_profiles SET visibility = 'public' WHERE user_id = $1", [privateID])
        #expect(try usernames(search(service, tokens)) == ["priv_user"])
        #expect(service.get("/api/v1/users/\(publicID)", tokens).status == .notFound)
        #expect(service.get("/api/v1/users/\(privateID)", tokens).status == .ok)
        try service.database.query("DELETE FROM users WHERE id = $1", [privateID])
        #expect(try usernames(search(service, tokens)) == [])
        // The caller's own profile, once public, is found like anyone's (a preview of what others see).
        try service.saved("/api/v1/users/me/profile", tokens, [("visibility", "public")])
        #expect(service.get("/api/v1/users/\(caller.id)", tokens).status == .ok)
        #expect(try usernames(search(service, tokens)) == [caller.username])
    }

    @Test func thePublicViewHoldsOnlyThePublicFields() throws {
        let service = try TestService()
        let (_, tokens) = try premiumCaller(service)
        let id = try listed(service, "jdoe", fullName: "Jane Doe", title: "Backend Engineer", location: "Berlin", headline: "APIs",
                            skills: ["Swift"], years: 7, remote: "hybrid")
        let profileKeys = ["headline", "bio", "skills", "years_of_experience", "education", "work_history", "website", "linkedin_url",
                           "github_url", "portfolio_url", "avatar_url"]
        let preferenceKeys = ["desired_titles", "preferred_locations", "remote_preference", "employment_types", "willing_to_relocate",
                              "available_from"]
        let user = try #require(service.get("/api/v1/users/\(id)", tokens).json)
        #expect(keys(user) == ["id", "username", "full_name", "current_title", "location", "profile", "preferences"])
        #expect(user["username"] == "jdoe" && user["full_name"] == "Jane Doe" && user["current_title"] == "Backend Engineer"
                && user["location"] == "Berlin" && user["id"]?.string == id)
        #expect(keys(user["profile"]) == profileKeys && keys(user["preferences"]) == preferenceKeys)
        #expect(user["profile"]?["years_of_experience"] == 7 && user["profile"]?["education"]?.array?.count == 1)
        #expect(user["preferences"]?["remote_preference"] == "hybrid" && user["preferences"]?["available_from"] == "2030-01-01")
        #expect(keys(service.get("/api/v1/users/\(id)/profile", tokens).json) == profileKeys)
        #expect(keys(service.get("/api/v1/users/\(id)/preferences", tokens).json) == preferenceKeys)
        let item = try #require(search(service, tokens).json?["items"]?.array?.first)
        #expect(keys(item) == ["id", "username", "full_name", "current_title", "location", "headline", "skills", "years_of_experience",
                               "remote_preference", "avatar_url"])
        // Nothing private anywhere in the answers.
        for path in ["/api/v1/users/\(id)", "/api/v1/users/\(id)/profile", "/api/v1/users/\(id)/preferences", "/api/v1/users/search"] {
            let text = service.get(path, tokens).text
            for secret in ["@example.com", "+14155550123", "90000", "EUR", "Software", "daily", "phone", "salary", "email", "last_login",
                           "is_active", "created_at", "job_alerts", "visibility", "\"$2"] {
                #expect(!text.contains(secret), "\(path) shows \(secret)")
            }
        }
    }

    @Test func aUserIDThatIsNotAUUIDIsA422AtItsPath() throws {
        let service = try TestService()
        let (_, tokens) = try premiumCaller(service)
        for suffix in ["", "/profile", "/preferences"] {
            let issues = try validationIssues(service.get("/api/v1/users/not-a-uuid\(suffix)", tokens))
            #expect(Array(issues.keys) == ["path.user_id uuid_parsing"], "\(suffix)")
        }
        // The token is checked first (as FastAPI resolves the security dependency first).
        #expect(service.request("GET", "/api/v1/users/not-a-uuid").status == .unauthorized)
        // /me keeps its own routes (they come first in the table).
        #expect(service.get("/api/v1/users/me", tokens).status == .ok)
        #expect(service.get("/api/v1/users/me/profile", tokens).json?["visibility"] == "private")
        // A method neither route has: each allowed method named once.
        #expect(service.request("POST", "/api/v1/users/me", token: tokens.access).header("Allow") == "GET, PUT, DELETE")
        #expect(service.request("PUT", "/api/v1/users/00000000-0000-4000-8000-000000000000", token: tokens.access).header("Allow") == "GET")
        // The document says so.
        let document = try #require(service.request("GET", "/openapi.json").json)
        let operation = document["paths"]?["/api/v1/users/{user_id}"]?["get"]
        let parameter = try #require(operation?["parameters"]?.array?.first)
        #expect(parameter["in"] == "path" && parameter["name"] == "user_id" && parameter["schema"]?["format"] == "uuid")
        #expect(operation?["responses"]?["422"] != nil && operation?["responses"]?["404"] != nil && operation?["responses"]?["403"] != nil)
        let search = document["paths"]?["/api/v1/users/search"]?["get"]?["parameters"]?.array?.compactMap { $0["name"]?.string }
        #expect(search == ["q", "location", "skills", "remote", "min_experience", "limit", "offset"])
    }

    @Test func filtersCombineAndWordsRankByField() throws {
        let service = try TestService()
        let (_, tokens) = try premiumCaller(service)
        try listed(service, "alice", fullName: "Alice Rust", title: "Designer", location: "Berlin, Germany", skills: ["Figma"], years: 3, remote: "remote")
        try listed(service, "bob", fullName: "Bob Stone", title: "Rust Engineer", location: "Paris", headline: "Systems", skills: ["Rust", "Go"], years: 10, remote: "onsite")
        try listed(service, "carol", fullName: "Carol King", title: "Engineer", location: "Berlin", headline: "Backend", skills: ["rust", "Swift"], years: 6, remote: "any")
        try listed(service, "dave", fullName: "Dave Rustin", title: "Manager", location: "Munich", skills: ["Excel"], years: 12, remote: "hybrid")
        try listed(service, "erin_hidden", fullName: "Erin Rust", visibility: "private")
        // A word in the name ranks above the same word in the title, above it in the skills only; prefixes match
        // ("Rustin"), and equal ranks go by username.
        #expect(try usernames(search(service, tokens, "q=rust")) == ["alice", "dave", "bob", "carol"])
        #expect(try usernames(search(service, tokens, "q=RUST%20engin")) == ["bob", "carol"])
        #expect(try usernames(search(service, tokens, "q=stone")) == ["bob"])
        // Location matches the location only ("Berlin" is nobody's name).
        #expect(try usernames(search(service, tokens, "location=berlin")) == ["alice", "carol"])
        // Every skill asked, in any letter case; repeated or comma-separated.
        #expect(try usernames(search(service, tokens, "skills=RUST")) == ["bob", "carol"])
        #expect(try usernames(search(service, tokens, "skills=rust,swift")) == ["carol"])
        #expect(try usernames(search(service, tokens, "skills=rust&skills=go")) == ["bob"])
        // Remote: that preference or "any".
        #expect(try usernames(search(service, tokens, "remote=remote")) == ["alice", "carol"])
        #expect(try usernames(search(service, tokens, "min_experience=6")) == ["bob", "carol", "dave"])
        // All together.
        #expect(try usernames(search(service, tokens, "q=rust&location=berlin&skills=rust&remote=hybrid&min_experience=5")) == ["carol"])
        #expect(try usernames(search(service, tokens, "q=nobody")) == [])
        // Paging: total counts every match, the page holds limit items from offset.
        let page = search(service, tokens, "limit=2&offset=1")
        #expect(try usernames(page) == ["bob", "carol"])
        #expect(page.json?["total"] == 4 && page.json?["limit"] == 2 && page.json?["offset"] == 1)
        let past = search(service, tokens, "q=rust&offset=10")
        #expect(try usernames(past) == [] && past.json?["total"] == 4)
        // Bad parameters: FastAPI's 422s.
        #expect(try validationIssues(search(service, tokens, "limit=0")).keys.contains("query.limit greater_than_equal"))
        #expect(try validationIssues(search(service, tokens, "limit=101")).keys.contains("query.limit less_than_equal"))
        #expect(try validationIssues(search(service, tokens, "offset=-1")).keys.contains("query.offset greater_than_equal"))
        #expect(try validationIssues(search(service, tokens, "remote=mars")).keys.contains("query.remote enum"))
        #expect(try validationIssues(search(service, tokens, "min_experience=x")).keys.contains("query.min_experience int_parsing"))
        // PostgreSQL's text holds no NUL: refused, never cut.
        #expect(try validationIssues(search(service, tokens, "q=a%00b")).keys.contains("query.q value_error"))
        #expect(try validationIssues(search(service, tokens, "skills=go,a%00b")).keys.contains("query.skills.1 value_error"))
        // Tsquery syntax in the input is words, never operators: "rust | !stone" is the words rust AND stone (a
        // tsquery would be rust OR NOT stone: everyone).
        #expect(try usernames(search(service, tokens, "q=rust%20%7C%20%21stone%27%3A*")) == ["bob"])
        #expect(try usernames(search(service, tokens, "location=%21paris%20%7C%20berlin")) == [])
    }

    /// A word's cost in the index grows with how many words it is the prefix of, and with the number of words:
    /// 0022 bounds both (Migrations/0022_directory_query_bounds.sql).
    @Test func shortWordsMatchWholeAndOnlyTheFirstEightWordsCount() throws {
        let service = try TestService()
        let (_, tokens) = try premiumCaller(service)
        try listed(service, "alice", fullName: "Alice Rust", title: "Designer", location: "Berlin", skills: ["Figma"])
        try listed(service, "bob", fullName: "Bob Stone", title: "Rust Engineer", location: "Paris", headline: "Systems", skills: ["Rust", "Go"])
        try listed(service, "gopher", fullName: "Gopher Gordon", location: "Gothenburg")
        // One or two characters: that whole word ("go" is Bob's skill, not the start of "gopher"); three: a prefix.
        #expect(try usernames(search(service, tokens, "q=al")) == [])
        #expect(try usernames(search(service, tokens, "q=ali")) == ["alice"])
        #expect(try usernames(search(service, tokens, "q=go")) == ["bob"])
        #expect(try usernames(search(service, tokens, "q=gop")) == ["gopher"])
        #expect(try usernames(search(service, tokens, "location=go")) == [])
        #expect(try usernames(search(service, tokens, "location=got")) == ["gopher"])
        // Eight words of Bob's, then one of nobody's: the ninth does not count.
        #expect(try usernames(search(service, tokens, "q=bob%20stone%20rust%20engineer%20paris%20systems%20go%20engin%20nomatch")) == ["bob"])
        #expect(try usernames(search(service, tokens, "q=nomatch%20bob%20stone%20rust%20engineer%20paris%20systems%20go%20engin")) == [])
        // Thirty-six one-letter words: eight whole-word lookups, never 36 prefix reads of the whole index.
        let letters = "abcdefghijklmnopqrstuvwxyz0123456789".map { String($0) }
        #expect(try service.value("SELECT directory_tsquery($1, '')::text", [letters.joined(separator: " ")])
                == "'a' & 'b' & 'c' & 'd' & 'e' & 'f' & 'g' & 'h'")
        #expect(try usernames(search(service, tokens, "q=" + letters.joined(separator: "%20"))) == [])
    }

    @Test func eachAccountHasAPerMinuteLimit() throws {
        let service = try TestService(["DIRECTORY_MAX_PER_MINUTE": "3"])
        let (caller, tokens) = try premiumCaller(service)
        let (_, otherTokens) = try premiumCaller(service)
        let id = try listed(service, "someone")
        #expect(search(service, tokens).status == .ok)
        #expect(service.get("/api/v1/users/\(id)", tokens).status == .ok)
        #expect(service.get("/api/v1/users/\(id)/profile", tokens).status == .ok)
        let refused = service.get("/api/v1/users/\(id)/preferences", tokens)
        #expect(refused.status == .tooManyRequests && refused.detail == "Too many directory requests. Try again later.")
        let wait = try #require(refused.header("Retry-After").flatMap { Int($0) })
        #expect((1...60).contains(wait))
        #expect(search(service, tokens).status == .tooManyRequests)
        // Per account: another premium account is not affected.
        #expect(search(service, otherTokens).status == .ok)
        // The window passes (moved back in the database): counted afresh.
        try service.shift("directory_requests", ["window_started_at"], by: 61, where: "user_id = '\(caller.id)'")
        #expect(search(service, tokens).status == .ok)
    }
}
