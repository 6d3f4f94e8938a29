import HTTP
import Testing
@testable import UserService

/// `GET`/`PUT /api/v1/users/me/profile` through the `Application`, against the real PostgreSQL.
@Suite struct ProfileTests {
    static let path = "/api/v1/users/me/profile"

    static let work: JSONValue = .object([("organisation", "Example Corp"), ("title", "Backend Engineer"),
                                          ("start_date", "2014-09-01"), ("end_date", nil), ("description", "APIs.")])
    static let school: JSONValue = .object([("organisation", "Example University"), ("title", "BSc"),
                                            ("start_date", "2010-09-01"), ("end_date", "2014-06-30"), ("description", nil)])

    @Test func withoutARowTheDefaultsAreShown() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        let response = service.get(Self.path, tokens)
        #expect(response.status == .ok)
        #expect(response.text == """
            {"headline":null,"bio":null,"skills":[],"years_of_experience":null,"education":[],"work_history":[],\
            "website":null,"linkedin_url":null,"github_url":null,"portfolio_url":null,"avatar_url":null,"phone":null,\
            "visibility":"private","created_at":null,"updated_at":null}
            """)
        #expect(try service.count("SELECT count(*) FROM user_profiles") == 0)
        #expect(service.request("GET", Self.path).status == .unauthorized)
        #expect(service.request("PUT", Self.path, json: .object([])).status == .unauthorized)
    }

    @Test func theFirstPutCreatesTheRowAndAnswersTheWholeProfile() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let saved = try service.saved(Self.path, tokens, [
            ("headline", "Engineer"), ("bio", "Builds things."), ("skills", .array(["Swift", "SQL"])), ("years_of_experience", 7),
            ("education", .array([Self.school])), ("work_history", .array([Self.work])),
            ("website", "https://example.com"), ("linkedin_url", "https://www.linkedin.com/in/x"), ("github_url", "http://github.com/x"),
            ("portfolio_url", "HTTPS://Example.com/work"), ("avatar_url", "https://example.com/a.png"), ("phone", "+14155550123"),
            ("visibility", "premium"),
        ])
        #expect(saved["headline"] == "Engineer" && saved["bio"] == "Builds things." && saved["skills"] == .array(["Swift", "SQL"]))
        #expect(saved["years_of_experience"] == 7 && saved["education"] == .array([Self.school]) && saved["work_history"] == .array([Self.work]))
        #expect(saved["website"] == "https://example.com" && saved["github_url"] == "http://github.com/x"
                && saved["portfolio_url"] == "HTTPS://Example.com/work" && saved["phone"] == "+14155550123" && saved["visibility"] == "premium")
        #expect(saved["created_at"]?.string != nil && saved["updated_at"]?.string != nil)
        #expect(service.get(Self.path, tokens).json == saved)
        #expect(try service.count("SELECT count(*) FROM user_profiles WHERE user_id = $1", [user.id]) == 1)
        // Another user still sees the defaults.
        let (_, other) = try service.newUser()
        #expect(service.get(Self.path, other).json?["headline"] == .null)
    }

    @Test func notSentIsKeptNullClearsAListSentReplaces() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let first = try service.saved(Self.path, tokens, [
            ("headline", "Engineer"), ("skills", .array(["Swift", "SQL"])), ("work_history", .array([Self.work])),
            ("phone", "+14155550123"), ("years_of_experience", 3), ("visibility", "public"),
        ])
        try service.shift("user_profiles", ["updated_at"], by: 60)
        let second = try service.saved(Self.path, tokens, [("bio", "New bio")])
        for field in ["headline", "skills", "work_history", "phone", "years_of_experience", "visibility", "created_at"] {
            #expect(second[field] == first[field], "\(field)")
        }
        #expect(second["bio"] == "New bio" && second["updated_at"] != first["updated_at"])

        let replaced = try service.saved(Self.path, tokens, [("skills", .array(["Rust"])), ("work_history", .array([Self.school, Self.work]))])
        #expect(replaced["skills"] == .array(["Rust"]) && replaced["work_history"] == .array([Self.school, Self.work]))

        let cleared = try service.saved(Self.path, tokens, [
            ("headline", nil), ("skills", nil), ("work_history", nil), ("phone", nil), ("years_of_experience", nil), ("bio", nil),
        ])
        #expect(cleared["headline"] == .null && cleared["bio"] == .null && cleared["phone"] == .null && cleared["years_of_experience"] == .null)
        #expect(cleared["skills"] == .array([]) && cleared["work_history"] == .array([]) && cleared["visibility"] == "public")
        #expect(try service.value("SELECT headline FROM user_profiles WHERE user_id = $1", [user.id]) == nil)

        // Visibility cannot be cleared: a 422 that changes nothing.
        let null = try validationIssues(service.put(Self.path, tokens, [("visibility", nil), ("headline", "Changed")]))
        #expect(null["body.visibility enum"] != nil)
        #expect(service.get(Self.path, tokens).json == cleared)
    }

    @Test func everyStringAndListIsBoundedInCodePoints() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        let entry = { (organisation: JSONValue, title: JSONValue, description: JSONValue) -> JSONValue in
            .array([.object([("organisation", organisation), ("title", title), ("start_date", "2020-01-01"), ("end_date", nil), ("description", description)])])
        }
        // (field, at the bound: accepted, past it: refused, the refusal's "loc type", its ctx)
        let cases: [(String, JSONValue, JSONValue, String, (String, Int))] = [
            ("headline", codePoints(200), codePoints(201), "body.headline string_too_long", ("max_length", 200)),
            ("bio", codePoints(5000), codePoints(5001), "body.bio string_too_long", ("max_length", 5000)),
            ("skills", strings(50), strings(51), "body.skills too_long", ("max_length", 50)),
            ("skills", .array([codePoints(50)]), .array([codePoints(51)]), "body.skills.0 string_too_long", ("max_length", 50)),
            ("skills", .array([codePoints(1)]), .array([""]), "body.skills.0 string_too_short", ("min_length", 1)),
            ("years_of_experience", 80, 81, "body.years_of_experience less_than_equal", ("le", 80)),
            ("years_of_experience", 0, -1, "body.years_of_experience greater_than_equal", ("ge", 0)),
            ("education", .array(Array(repeating: Self.school, count: 20)), .array(Array(repeating: Self.school, count: 21)),
             "body.education too_long", ("max_length", 20)),
            ("work_history", .array(Array(repeating: Self.work, count: 20)), .array(Array(repeating: Self.work, count: 21)),
             "body.work_history too_long", ("max_length", 20)),
            ("work_history", entry(codePoints(200), "t", nil), entry(codePoints(201), "t", nil),
             "body.work_history.0.organisation string_too_long", ("max_length", 200)),
            ("education", entry("o", codePoints(200), nil), entry("o", codePoints(201), nil),
             "body.education.0.title string_too_long", ("max_length", 200)),
            ("education", entry("o", "t", codePoints(2000)), entry("o", "t", codePoints(2001)),
             "body.education.0.description string_too_long", ("max_length", 2000)),
            ("work_history", entry("o", "t", nil), entry("", "t", nil), "body.work_history.0.organisation string_too_short", ("min_length", 1)),
        ] + ["website", "linkedin_url", "github_url", "portfolio_url", "avatar_url"].map { field in
            let url = { (length: Int) -> JSONValue in .string("https://example.com/" + String(repeating: "é", count: length - 20)) }
            return (field, url(2048), url(2049), "body.\(field) string_too_long", ("max_length", 2048))
        }
        for (field, accepted, refused, key, (ctxKey, ctxValue)) in cases {
            let saved = try service.saved(Self.path, tokens, [(field, accepted)])
            #expect(saved[field] == accepted, "\(field) at its bound")
            let issues = try validationIssues(service.put(Self.path, tokens, [(field, refused)]))
            #expect(issues[key]?["ctx"]?[ctxKey] == .integer(ctxValue), "\(key): \(issues)")
            #expect(service.get(Self.path, tokens).json?[field] == accepted, "\(field) unchanged by the refused PUT")
        }
    }

    /// The database refuses what the API refuses, with the same numbers: written past the API, each bound holds.
    @Test func theTableChecksTheSameBounds() throws {
        let service = try TestService()
        let user = try service.register()
        func row(_ column: String, _ expression: String) -> String {
            "INSERT INTO user_profiles (user_id, \(column)) VALUES ($1, \(expression))"
        }
        let list = "ARRAY(SELECT jsonb_array_elements_text($2::jsonb))"
        func entries(_ count: Int, organisation: Int = 1, title: Int = 1, description: Int = 0, start: String = "2020-01-01",
                     end: String? = nil) -> String {
            JSONValue.array(Array(repeating: .object([
                ("organisation", .string(String(repeating: "é", count: organisation))), ("title", .string(String(repeating: "é", count: title))),
                ("start_date", .string(start)), ("end_date", .optional(end)),
                ("description", description == 0 ? .null : .string(String(repeating: "é", count: description))),
            ]), count: count)).text
        }
        let cases: [(String, String, String, String, String)] = [  // (constraint, column, expression, accepted, refused)
            ("user_profiles_headline_length", "headline", "$2", String(repeating: "é", count: 200), String(repeating: "é", count: 201)),
            ("user_profiles_bio_length", "bio", "$2", String(repeating: "é", count: 5000), String(repeating: "é", count: 5001)),
            ("user_profiles_skills_bounds", "skills", list, strings(50).text, strings(51).text),
            ("user_profiles_skills_bounds", "skills", list, JSONValue.array([codePoints(50)]).text, JSONValue.array([codePoints(51)]).text),
            ("user_profiles_skills_bounds", "skills", list, JSONValue.array(["a"]).text, JSONValue.array([""]).text),
            ("user_profiles_years_of_experience_range", "years_of_experience", "$2::integer", "80", "81"),
            ("user_profiles_years_of_experience_range", "years_of_experience", "$2::integer", "0", "-1"),
            ("user_profiles_education_entries", "education", "$2::jsonb", entries(20), entries(21)),
            ("user_profiles_work_history_entries", "work_history", "$2::jsonb", entries(1, organisation: 200), entries(1, organisation: 201)),
            ("user_profiles_work_history_entries", "work_history", "$2::jsonb", entries(1, title: 200), entries(1, title: 201)),
            ("user_profiles_work_history_entries", "work_history", "$2::jsonb", entries(1, description: 2000), entries(1, description: 2001)),
            ("user_profiles_work_history_entries", "work_history", "$2::jsonb", entries(1, organisation: 1), entries(1, organisation: 0)),
            ("user_profiles_work_history_entries", "work_history", "$2::jsonb", entries(1, end: "2020-01-01"), entries(1, end: "2019-12-31")),
            ("user_profiles_work_history_entries", "work_history", "$2::jsonb", entries(1), #"[{"organisation":"o","title":"t"}]"#),
            ("user_profiles_website_format", "website", "$2", "https://x/" + String(repeating: "é", count: 2038),
             "https://x/" + String(repeating: "é", count: 2039)),
            ("user_profiles_avatar_url_format", "avatar_url", "$2", "http://x", "ftp://x"),
            ("user_profiles_phone_format", "phone", "$2", "+123456789012345", "+1234567890123456"),
            ("user_profiles_phone_format", "phone", "$2", "+12", "+02"),
            ("user_profiles_visibility_values", "visibility", "$2", "public", "everyone"),
        ]
        for (constraint, column, expression, accepted, refused) in cases {
            #expect(service.violates(constraint, row(column, expression), [user.id, refused]), "\(constraint): \(refused.prefix(60))")
            try service.database.query(row(column, expression), [user.id, accepted])
            try service.database.query("DELETE FROM user_profiles")
        }
    }

    @Test func visibilityIsOneOfItsValues() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        for value in ["public", "premium", "private"] {
            #expect(try service.saved(Self.path, tokens, [("visibility", .string(value))])["visibility"] == .string(value))
        }
        for value: JSONValue in ["everyone", "PUBLIC", 1] {
            let issue = try validationIssues(service.put(Self.path, tokens, [("visibility", value)]))["body.visibility enum"]
            #expect(issue?["msg"] == "Input should be 'public', 'premium' or 'private'")
            #expect(issue?["ctx"]?["expected"] == "'public', 'premium' or 'private'")
        }
    }

    @Test func linksAreHTTPOrHTTPSWithAHost() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        for field in ["website", "linkedin_url", "github_url", "portfolio_url", "avatar_url"] {
            for url in ["https://example.com", "http://example.com/a?b#c", "HTTPS://EXAMPLE.COM"] {
                #expect(try service.saved(Self.path, tokens, [(field, .string(url))])[field] == .string(url), "\(field) \(url)")
            }
            for url in ["ftp://example.com", "javascript:alert(1)", "//example.com", "example.com", "data:text/html,x"] {
                #expect(try validationIssues(service.put(Self.path, tokens, [(field, .string(url))]))["body.\(field) url_scheme"] != nil, "\(url)")
            }
            for url in ["https://", "http:///path", "https://exa mple.com"] {
                #expect(try validationIssues(service.put(Self.path, tokens, [(field, .string(url))]))["body.\(field) url_parsing"] != nil, "\(url)")
            }
            #expect(try validationIssues(service.put(Self.path, tokens, [(field, 5)]))["body.\(field) string_type"] != nil)
        }
    }

    @Test func phoneIsE164() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        for phone in ["+14155550123", "+12", "+123456789012345", "+442071838750"] {
            #expect(try service.saved(Self.path, tokens, [("phone", .string(phone))])["phone"] == .string(phone), "\(phone)")
        }
        for phone in ["14155550123", "+0123456", "+1", "+1 415 555 0123", "+1-415-555-0123", "+1234567890123456", "+١٢٣٤٥", "++123", ""] {
            let issues = try validationIssues(service.put(Self.path, tokens, [("phone", .string(phone))]))
            let issue = issues["body.phone string_pattern_mismatch"] ?? issues["body.phone string_too_long"]
            #expect(issue != nil, "\(phone): \(issues)")
        }
        let issue = try validationIssues(service.put(Self.path, tokens, [("phone", "123")]))["body.phone string_pattern_mismatch"]
        #expect(issue?["ctx"]?["pattern"] == #"^\+[1-9][0-9]{1,14}$"#)
    }

    @Test func entriesHaveDatesAndEndOnOrAfterStart() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        func entry(_ members: [(String, JSONValue)]) -> [(String, JSONValue)] {
            [("work_history", .array([.object([("organisation", "o"), ("title", "t"), ("start_date", "2020-02-29")] + members)]))]
        }
        // Current (no end), ending the same day, ending later: accepted; end_date and description default to null.
        for members: [(String, JSONValue)] in [[], [("end_date", nil)], [("end_date", "2020-02-29")], [("end_date", "2021-01-01")]] {
            let saved = try service.saved(Self.path, tokens, entry(members))
            #expect(saved["work_history"]?.array?.first?["end_date"] == (members.first?.1 ?? .null))
            #expect(saved["work_history"]?.array?.first?["description"] == .null)
        }
        let before = try validationIssues(service.put(Self.path, tokens, entry([("end_date", "2020-02-28")])))
        #expect(before["body.work_history.0.end_date value_error"]?["msg"] == "Value error, end_date must be on or after start_date")
        for bad in ["2021-02-29", "2020-13-01", "20-01-01", "2020-1-1", "yesterday"] {
            let issues = try validationIssues(service.put(Self.path, tokens, entry([("end_date", .string(bad))])))
            #expect(issues["body.work_history.0.end_date date_from_datetime_parsing"] != nil, "\(bad): \(issues)")
        }
        let missing = try validationIssues(service.put(Self.path, tokens, [("education", .array([.object([]), "not an object"]))]))
        for field in ["organisation", "title", "start_date"] { #expect(missing["body.education.0.\(field) missing"] != nil, "\(field)") }
        #expect(missing["body.education.1 model_type"] != nil)
    }

    @Test func fieldsTheUserDoesNotOwnAreRefused() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        for field in ["user_id", "created_at", "updated_at"] {
            let issues = try validationIssues(service.put(Self.path, tokens, [(field, "x"), ("headline", "h")]))
            #expect(issues["body.\(field) extra_forbidden"] != nil)
        }
        #expect(try service.count("SELECT count(*) FROM user_profiles") == 0)
    }

    @Test func deletingTheUserDeletesTheProfile() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let (other, otherTokens) = try service.newUser()
        try service.saved(Self.path, tokens, [("headline", "h")])
        try service.saved(Self.path, otherTokens, [("headline", "kept")])
        try service.database.query("DELETE FROM users WHERE id = $1", [user.id])
        #expect(try service.count("SELECT count(*) FROM user_profiles WHERE user_id = $1", [user.id]) == 0)
        #expect(try service.count("SELECT count(*) FROM user_profiles WHERE user_id = $1", [other.id]) == 1)
    }

    @Test func completenessNamesTheMissingFields() throws {
        #expect(ProfileRecord.empty.completeness == ProfileCompleteness(missingFields: [
            "headline", "bio", "skills", "years_of_experience", "education", "work_history", "website", "linkedin_url",
            "github_url", "portfolio_url", "avatar_url", "phone"], percentage: 0))
        var profile = ProfileRecord.empty
        profile.shown.headline = "h"
        profile.shown.skills = ["Swift"]
        profile.shown.bio = ""  // empty is not filled
        profile.phone = "+12"
        #expect(profile.completeness == ProfileCompleteness(missingFields: [
            "bio", "years_of_experience", "education", "work_history", "website", "linkedin_url", "github_url", "portfolio_url",
            "avatar_url"], percentage: 25))

        let service = try TestService()
        let (user, tokens) = try service.newUser()
        #expect(try service.application.services.profiles.find(userID: user.id) == nil)
        try service.saved(Self.path, tokens, [("headline", "h"), ("work_history", .array([Self.work]))])
        let stored = try #require(try service.application.services.profiles.find(userID: user.id))
        #expect(stored.shown.headline == "h" && stored.shown.workHistory.first?.organisation == "Example Corp" && stored.shown.workHistory.first?.endDate == nil)
        #expect(stored.completeness.missingFields.count == 10)
    }

    @Test func theDocumentShowsBothOperationsWithExamples() throws {
        let document = try JSONParser.parse(OpenAPIDocument.json(mountPath: ""))
        for (path, field) in [(Self.path, "headline"), ("/api/v1/users/me/preferences", "remote_preference")] {
            let put = document["paths"]?[path]?["put"]
            #expect(put?["tags"] == .array(["users"]) && put?["security"] != nil, "\(path)")
            #expect(put?["requestBody"]?["content"]?["application/json"]?["example"]?[field] != nil, "\(path)")
            #expect(put?["responses"]?["200"]?["content"]?["application/json"]?["example"]?[field] != nil, "\(path)")
            #expect(put?["responses"]?["422"] != nil && document["paths"]?[path]?["get"]?["responses"]?["200"] != nil)
        }
        let entry = document["components"]?["schemas"]?["ProfileEntryInput"]
        #expect(entry?["required"] == .array(["organisation", "title", "start_date"]))
        #expect(document["components"]?["schemas"]?["PreferencesUpdate"]?["properties"]?["remote_preference"]?["enum"]
                == .array(PreferencesRecord.remotePreferences.map(JSONValue.string)))
    }
}
