import HTTP
import Postgres
import Testing
@testable import UserService

/// `GET`/`PUT /api/v1/users/me/preferences` through the `Application`, against the real PostgreSQL.
@Suite struct PreferencesTests {
    static let path = "/api/v1/users/me/preferences"

    static let full: [(String, JSONValue)] = [
        ("desired_titles", .array(["Backend Engineer", "SRE"])), ("preferred_locations", .array(["Berlin"])),
        ("remote_preference", "hybrid"), ("employment_types", .array(["full_time", "contract"])),
        ("salary_min", 70000), ("salary_max", 90000), ("salary_currency", "EUR"), ("salary_period", "year"),
        ("industries", .array(["Software"])), ("company_sizes", .array(["51-200", "5001+"])),
        ("willing_to_relocate", true), ("available_from", "2027-01-01"), ("job_alerts", true), ("alert_frequency", "daily"),
    ]

    @Test func withoutARowTheDefaultsAreShown() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        let response = service.get(Self.path, tokens)
        #expect(response.status == .ok)
        #expect(response.text == """
            {"desired_titles":[],"preferred_locations":[],"remote_preference":"any","employment_types":[],\
            "salary_min":null,"salary_max":null,"salary_currency":null,"salary_period":null,"industries":[],"company_sizes":[],\
            "willing_to_relocate":false,"available_from":null,"job_alerts":false,"alert_frequency":"weekly",\
            "created_at":null,"updated_at":null}
            """)
        #expect(try service.count("SELECT count(*) FROM user_preferences") == 0)
        #expect(service.request("GET", Self.path).status == .unauthorized)
        #expect(service.request("PUT", Self.path, json: .object([])).status == .unauthorized)
    }

    @Test func theFirstPutCreatesTheRowAndAnswersEverything() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let saved = try service.saved(Self.path, tokens, Self.full)
        for (field, value) in Self.full { #expect(saved[field] == value, "\(field)") }
        #expect(saved["created_at"]?.string != nil)
        #expect(service.get(Self.path, tokens).json == saved)
        // Typed columns, as the directory will filter them.
        #expect(try service.count("""
            SELECT count(*) FROM user_preferences WHERE user_id = $1 AND employment_types @> ARRAY['contract']
               AND company_sizes && ARRAY['5001+', '1-10'] AND available_from = DATE '2027-01-01' AND salary_min = 70000
            """, [user.id]) == 1)
        let (_, other) = try service.newUser()
        #expect(service.get(Self.path, other).json?["desired_titles"] == .array([]))
    }

    @Test func notSentIsKeptNullClearsAListSentReplaces() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        let first = try service.saved(Self.path, tokens, Self.full)
        try service.shift("user_preferences", ["updated_at"], by: 60)
        let second = try service.saved(Self.path, tokens, [("industries", .array(["Finance", "Health"]))])
        for (field, value) in Self.full where field != "industries" { #expect(second[field] == value, "\(field)") }
        #expect(second["industries"] == .array(["Finance", "Health"]) && second["updated_at"] != first["updated_at"])

        let cleared = try service.saved(Self.path, tokens, [
            ("desired_titles", nil), ("preferred_locations", nil), ("employment_types", nil), ("salary_min", nil), ("salary_max", nil),
            ("salary_currency", nil), ("salary_period", nil), ("industries", nil), ("company_sizes", nil), ("available_from", nil),
        ])
        for field in ["desired_titles", "preferred_locations", "employment_types", "industries", "company_sizes"] {
            #expect(cleared[field] == .array([]), "\(field)")
        }
        for field in ["salary_min", "salary_max", "salary_currency", "salary_period", "available_from"] { #expect(cleared[field] == .null, "\(field)") }
        #expect(cleared["remote_preference"] == "hybrid" && cleared["job_alerts"] == true && cleared["willing_to_relocate"] == true)

        // These always have a value: null is a 422 that changes nothing.
        for (field, type) in [("remote_preference", "enum"), ("alert_frequency", "enum"), ("job_alerts", "bool_type"),
                              ("willing_to_relocate", "bool_type")] {
            let issues = try validationIssues(service.put(Self.path, tokens, [(field, nil), ("industries", .array(["Other"]))]))
            #expect(issues["body.\(field) \(type)"] != nil, "\(field): \(issues)")
        }
        #expect(service.get(Self.path, tokens).json == cleared)
    }

    @Test func enumerationsListTheirValues() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        let cases: [(String, JSONValue, String, String)] = [  // (field, refused value, "loc type", ctx expected)
            ("remote_preference", "anywhere", "body.remote_preference enum", "'remote', 'hybrid', 'onsite' or 'any'"),
            ("employment_types", .array(["full_time", "freelance"]), "body.employment_types.1 enum",
             "'full_time', 'part_time', 'contract', 'internship' or 'temporary'"),
            ("salary_period", "fortnight", "body.salary_period enum", "'hour', 'day', 'week', 'month' or 'year'"),
            ("company_sizes", .array(["10-50"]), "body.company_sizes.0 enum", "'1-10', '11-50', '51-200', '201-500', '501-1000', '1001-5000' or '5001+'"),
            ("alert_frequency", "hourly", "body.alert_frequency enum", "'daily', 'weekly' or 'monthly'"),
        ]
        for (field, value, key, expected) in cases {
            let issue = try validationIssues(service.put(Self.path, tokens, [(field, value)]))[key]
            #expect(issue?["ctx"]?["expected"] == .string(expected), "\(field): \(String(describing: issue))")
            #expect(issue?["msg"] == .string("Input should be \(expected)"))
        }
        for (field, values) in [("remote_preference", PreferencesRecord.remotePreferences), ("salary_period", PreferencesRecord.salaryPeriods),
                                ("alert_frequency", PreferencesRecord.alertFrequencies)] {
            for value in values { #expect(try service.saved(Self.path, tokens, [(field, .string(value))])[field] == .string(value)) }
        }
        let all = try service.saved(Self.path, tokens, [
            ("employment_types", .array(PreferencesRecord.employmentTypes.map(JSONValue.string))),
            ("company_sizes", .array(PreferencesRecord.companySizes.map(JSONValue.string))),
        ])
        #expect(all["employment_types"]?.array?.count == 5 && all["company_sizes"]?.array?.count == 7)
        // A set: a value sent twice is kept once.
        let twice = try service.saved(Self.path, tokens, [("employment_types", .array(["contract", "full_time", "contract"]))])
        #expect(twice["employment_types"] == .array(["contract", "full_time"]))
    }

    @Test func everyListStringAndNumberIsBounded() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        var cases: [(String, JSONValue, JSONValue, String, (String, Int))] = [
            ("salary_min", 0, -1, "body.salary_min greater_than_equal", ("ge", 0)),
            ("salary_max", 1_000_000_000_000, 1_000_000_000_001, "body.salary_max less_than_equal", ("le", 1_000_000_000_000)),
            ("employment_types", .array(Array(repeating: "full_time", count: 5)), .array(Array(repeating: "full_time", count: 6)),
             "body.employment_types too_long", ("max_length", 5)),
            ("company_sizes", .array(Array(repeating: "1-10", count: 7)), .array(Array(repeating: "1-10", count: 8)),
             "body.company_sizes too_long", ("max_length", 7)),
            ("salary_currency", "USD", "USDX", "body.salary_currency string_too_long", ("max_length", 3)),
        ]
        for field in ["desired_titles", "preferred_locations", "industries"] {
            cases += [
                (field, strings(20), strings(21), "body.\(field) too_long", ("max_length", 20)),
                (field, .array([codePoints(100)]), .array([codePoints(101)]), "body.\(field).0 string_too_long", ("max_length", 100)),
                (field, .array([codePoints(1)]), .array([""]), "body.\(field).0 string_too_short", ("min_length", 1)),
            ]
        }
        for (field, accepted, refused, key, (ctxKey, ctxValue)) in cases {
            let saved = try service.saved(Self.path, tokens, [(field, accepted)])
            if field == "employment_types" || field == "company_sizes" {
                #expect(saved[field]?.array?.count == 1)  // kept once
            } else {
                #expect(saved[field] == accepted, "\(field) at its bound")
            }
            let issues = try validationIssues(service.put(Self.path, tokens, [(field, refused)]))
            #expect(issues[key]?["ctx"]?[ctxKey] == .integer(ctxValue), "\(key): \(issues)")
            #expect(service.get(Self.path, tokens).json?[field] == saved[field], "\(field) unchanged by the refused PUT")
        }
        for currency in ["usd", "US", "U5D", "€€€"] {
            let issue = try validationIssues(service.put(Self.path, tokens, [("salary_currency", .string(currency))]))["body.salary_currency string_pattern_mismatch"]
            #expect(issue?["ctx"]?["pattern"] == "^[A-Z]{3}$", "\(currency)")
        }
        for date in ["2027-02-29", "2027-1-01", "soon"] {
            #expect(try validationIssues(service.put(Self.path, tokens, [("available_from", .string(date))]))["body.available_from date_from_datetime_parsing"] != nil)
        }
        #expect(try service.saved(Self.path, tokens, [("available_from", "2028-02-29")])["available_from"] == "2028-02-29")
        #expect(try validationIssues(service.put(Self.path, tokens, [("salary_min", .number(1.5))]))["body.salary_min int_type"] != nil)
        #expect(try validationIssues(service.put(Self.path, tokens, [("job_alerts", "yes")]))["body.job_alerts bool_type"] != nil)
    }

    /// The database refuses what the API refuses, with the same numbers and values: written past the API, each holds.
    @Test func theTableChecksTheSameBoundsAndValues() throws {
        let service = try TestService()
        let user = try service.register()
        let list = "ARRAY(SELECT jsonb_array_elements_text($2::jsonb))"
        var cases: [(String, String, String, String, String)] = [  // (constraint, column, expression, accepted, refused)
            ("user_preferences_remote_preference_values", "remote_preference", "$2", "onsite", "anywhere"),
            ("user_preferences_employment_types_values", "employment_types", list, #"["internship"]"#, #"["freelance"]"#),
            ("user_preferences_company_sizes_values", "company_sizes", list, #"["1001-5000"]"#, #"["10-50"]"#),
            ("user_preferences_salary_min_range", "salary_min", "$2::bigint", "0", "-1"),
            ("user_preferences_salary_max_range", "salary_max", "$2::bigint", "1000000000000", "1000000000001"),
            ("user_preferences_salary_currency_format", "salary_currency", "$2", "JPY", "jpy"),
            ("user_preferences_salary_period_values", "salary_period", "$2", "week", "fortnight"),
            ("user_preferences_alert_frequency_values", "alert_frequency", "$2", "monthly", "hourly"),
        ]
        for field in ["desired_titles", "preferred_locations", "industries"] {
            cases += [
                ("user_preferences_\(field)_bounds", field, list, strings(20).text, strings(21).text),
                ("user_preferences_\(field)_bounds", field, list, JSONValue.array([codePoints(100)]).text, JSONValue.array([codePoints(101)]).text),
                ("user_preferences_\(field)_bounds", field, list, #"["a"]"#, #"[""]"#),
            ]
        }
        for (constraint, column, expression, accepted, refused) in cases {
            let sql = "INSERT INTO user_preferences (user_id, \(column)) VALUES ($1, \(expression))"
            #expect(service.violates(constraint, sql, [user.id, refused]), "\(constraint): \(refused.prefix(60))")
            try service.database.query(sql, [user.id, accepted])
            try service.database.query("DELETE FROM user_preferences")
        }
        #expect(service.violates("user_preferences_salary_range",
                                 "INSERT INTO user_preferences (user_id, salary_min, salary_max) VALUES ($1, 2, 1)", [user.id]))
    }

    @Test func salaryMinIsAtMostMaxAgainstTheStoredValuesToo() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        let expected = #"{"detail":[{"type":"value_error","loc":["body","salary_max"],"msg":"Value error, salary_max must be greater than or equal to salary_min"}]}"#
        // Both sent.
        let both = service.put(Self.path, tokens, [("salary_min", 90000), ("salary_max", 70000)])
        #expect(both.status == .unprocessableEntity && both.text == expected)
        #expect(try service.count("SELECT count(*) FROM user_preferences") == 0)
        // Equal is a range of one value.
        try service.saved(Self.path, tokens, [("salary_min", 50000), ("salary_max", 50000)])
        // One end sent, compared with the stored other end: the same answer, and nothing changes.
        for sent: (String, JSONValue) in [("salary_min", 50001), ("salary_max", 49999)] {
            let response = service.put(Self.path, tokens, [sent, ("industries", .array(["Changed"]))])
            #expect(response.status == .unprocessableEntity && response.text == expected, "\(sent.0): \(response.text)")
        }
        let stored = service.get(Self.path, tokens).json
        #expect(stored?["salary_min"] == 50000 && stored?["salary_max"] == 50000 && stored?["industries"] == .array([]))
        // Moving both together, or clearing one end, is fine.
        #expect(try service.saved(Self.path, tokens, [("salary_min", 80000), ("salary_max", 90000)])["salary_min"] == 80000)
        #expect(try service.saved(Self.path, tokens, [("salary_max", nil)])["salary_max"] == .null)
        #expect(try service.saved(Self.path, tokens, [("salary_min", 999_999)])["salary_min"] == 999_999)
    }

    /// The check runs on the row the upsert writes, under its lock: a PUT that waits for another writer's commit is
    /// compared with what that writer stored, not with what was there when it started.
    @Test func theSalaryCheckSeesAConcurrentWriter() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        try service.saved(Self.path, tokens, [("salary_min", 10)])
        try service.database.query("BEGIN")
        try service.database.query("UPDATE user_preferences SET salary_max = 100 WHERE user_id = $1", [user.id])
        let second = try SecondWorker(service.configuration, TestService.httpRequest(
            "PUT", Self.path, json: .object([("salary_min", 500)]), token: tokens.access))
        try service.waitForWaiter("the PUT")
        try service.database.query("COMMIT")
        let response = try second.response()
        #expect(response.status == .unprocessableEntity && response.text.contains("salary_max must be greater than or equal to salary_min"))
        #expect(try service.value("SELECT salary_min || '-' || salary_max FROM user_preferences WHERE user_id = $1", [user.id]) == "10-100")
    }

    @Test func fieldsTheUserDoesNotOwnAreRefused() throws {
        let service = try TestService()
        let (_, tokens) = try service.newUser()
        for field in ["user_id", "created_at", "updated_at"] {
            #expect(try validationIssues(service.put(Self.path, tokens, [(field, "x")]))["body.\(field) extra_forbidden"] != nil)
        }
        #expect(try service.count("SELECT count(*) FROM user_preferences") == 0)
    }

    @Test func deletingTheUserDeletesThePreferences() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let (other, otherTokens) = try service.newUser()
        try service.saved(Self.path, tokens, Self.full)
        try service.saved(Self.path, otherTokens, [("job_alerts", true)])
        try service.database.query("DELETE FROM users WHERE id = $1", [user.id])
        #expect(try service.count("SELECT count(*) FROM user_preferences WHERE user_id = $1", [user.id]) == 0)
        #expect(try service.count("SELECT count(*) FROM user_preferences WHERE user_id = $1", [other.id]) == 1)
        #expect(try service.application.services.preferences.find(userID: user.id) == nil)
        #expect(try service.application.services.preferences.find(userID: other.id)?.jobAlerts == true)
    }

    /// An account deleted between the token check and the write: the upsert's foreign key fails, answered 401.
    @Test func aWriteForADeletedAccountIsUnauthorizedNotAServerError() throws {
        let service = try TestService()
        let gone = "00000000-0000-0000-0000-000000000001"
        let services = service.application.services
        for write in [{ _ = try services.preferences.update(userID: gone, SentFields()) }, { _ = try services.profiles.update(userID: gone, SentFields()) }] {
            do {
                try write()
                Issue.record("a row for no user was written")
            } catch let error as PostgresError {
                #expect(ConstraintErrors.clientError(for: error)?.status == .unauthorized, "\(error)")
            }
        }
    }
}
