import HTTP
import Testing
@testable import UserService

/// Each rule reports what Pydantic v2 would, at the field's location, and describes itself for the document.
@Suite struct FieldRuleTests {
    func issues<Value>(_ rule: FieldRule<Value>, _ json: String) -> (Value?, [ValidationIssue]) {
        var issues: [ValidationIssue] = []
        let value = rule.parse(try! JSONParser.parse(Array(json.utf8)), ["body", "f"], &issues)
        return (value, issues)
    }

    @Test func enumerationsListTheAllowedValues() {
        let rule = FieldRule.oneOf(["remote", "hybrid", "onsite", "any"])
        #expect(issues(rule, #""hybrid""#).0 == "hybrid")
        let (value, problems) = issues(rule, #""office""#)
        #expect(value == nil && problems.map(\.type) == ["enum"])
        #expect(problems.first?.message == "Input should be 'remote', 'hybrid', 'onsite' or 'any'")
        #expect(problems.first?.context == .object([("expected", "'remote', 'hybrid', 'onsite' or 'any'")]))
        #expect(rule.schema == .string(values: ["remote", "hybrid", "onsite", "any"]))
    }

    @Test func listsAreBoundedAndNameTheIndexOfABadItem() {
        let rule = FieldRule.list(.string(maxLength: 3), maxItems: 2)
        #expect(issues(rule, #"["a", "bc"]"#).0 == ["a", "bc"])
        let (_, tooMany) = issues(rule, #"["a", "b", "c"]"#)
        #expect(tooMany.map(\.type) == ["too_long"] && tooMany.first?.message == "List should have at most 2 items after validation, not 3")
        let (_, badItem) = issues(rule, #"["a", "long"]"#)
        #expect(badItem.map(\.location) == [["body", "f", 1]] && badItem.map(\.type) == ["string_too_long"])
        #expect(issues(rule, #""a""#).1.map(\.type) == ["list_type"])
    }

    @Test func integersAndBooleans() {
        #expect(issues(FieldRule.integer(0...80), "12").0 == 12)
        #expect(issues(FieldRule.integer(0...80), "81").1.map(\.type) == ["less_than_equal"])
        #expect(issues(FieldRule.integer(0...80), "-1").1.map(\.type) == ["greater_than_equal"])
        #expect(issues(FieldRule.integer(0...80), #""12""#).1.map(\.type) == ["int_type"])
        #expect(issues(FieldRule.integer(0...80), "1.5").1.map(\.type) == ["int_type"])
        #expect(issues(FieldRule.boolean, "true").0 == true)
        #expect(issues(FieldRule.boolean, "1").1.map(\.type) == ["bool_type"])
    }

    @Test func urlsDatesAndPatterns() {
        #expect(issues(FieldRule.httpURL(), #""https://example.com/me""#).0 == "https://example.com/me")
        #expect(issues(FieldRule.httpURL(), #""javascript:alert(1)""#).1.map(\.type) == ["url_scheme"])
        #expect(issues(FieldRule.httpURL(), #""https:///x""#).1.map(\.type) == ["url_parsing"])
        // A combining mark after "?" is one Swift character, but the host is still empty, as the table's CHECK sees it.
        #expect(issues(FieldRule.httpURL(), "\"https://?\u{301}x\"").1.map(\.type) == ["url_parsing"])
        #expect(issues(FieldRule.httpURL(), #""HTTPS://Example.com""#).0 == "HTTPS://Example.com")
        #expect(issues(FieldRule.date, #""2024-02-29""#).0 == "2024-02-29")
        // Signs and other scripts' digits are not dates, though Int() and Character counts would take them.
        for bad in [#""2023-02-29""#, #""2024-13-01""#, #""24-01-01""#, #""yesterday""#, #""2020-+1-01""#, #""+999-12-31""#,
                    "\"２０２４-01-01\"", "\"2024-0\u{661}-01\""] {
            #expect(issues(FieldRule.date, bad).1.map(\.type) == ["date_from_datetime_parsing"], "\(bad)")
        }
        let digits = FieldRule.matching("^[0-9]+$", maxLength: 5) { $0.allSatisfy(\.isNumber) && !$0.isEmpty }
        #expect(issues(digits, #""123""#).0 == "123")
        #expect(issues(digits, #""12a""#).1.first?.context == .object([("pattern", "^[0-9]+$")]))
    }

    struct Entry: RequestModel, Equatable {
        static let schemaName = "Entry"
        let title: String
        init(reading body: inout FieldReader) { title = body.string("title", maxLength: 5) }
    }

    @Test func nestedObjectsReportBelowTheirField() {
        let rule = FieldRule.list(.object(Entry.self), maxItems: 3)
        #expect(issues(rule, #"[{"title": "a"}]"#).0 == [Entry(title: "a")] as [Entry]?)
        let (_, problems) = issues(rule, #"[{"title": "a"}, {"title": "toolong"}, 5]"#)
        #expect(problems.map(\.location) == [["body", "f", 1, "title"], ["body", "f", 2]])
        #expect(problems.map(\.type) == ["string_too_long", "model_type"])
    }

    @Test func undeclaredFieldsAreRefusedByName() {
        var reader = FieldReader(body: try! JSONParser.parse(Array(#"{"email": "x", "name": "y", "is_admin": true}"#.utf8)), rules: nil)
        _ = reader.optionalString("name", maxLength: 5)
        reader.refuseUndeclared()
        #expect(reader.issues.map(\.location) == [["body", "email"], ["body", "is_admin"]])
        #expect(reader.issues.allSatisfy { $0.type == "extra_forbidden" && $0.message == "Extra inputs are not permitted" })
    }
}

extension FieldRuleTests.Entry {
    init(title: String) { self.title = title }
}
