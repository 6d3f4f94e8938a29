import HTTP
import Testing
@testable import UserService

/// Models read their fields through `FieldReader`, which collects every problem into one 422 and, run describing,
/// gives the schema the OpenAPI document shows.
@Suite struct FieldReaderTests {
    struct Sample: RequestModel {
        static let schemaName = "Sample"
        let email: String
        let password: String
        let name: String
        let nul: String
        let nickname: String?
        let bio: Patch<String>

        init(reading body: inout FieldReader) {
            email = body.string("email", maxLength: 254, format: "email")
            password = body.string("password", maxLength: 1024)
            name = body.string("name", maxLength: 3)
            nul = body.string("nul", maxLength: 10)
            nickname = body.optionalString("nickname", maxLength: 10)
            bio = body.patchString("bio", maxLength: 10)
        }
    }

    func read(_ json: String) throws(ValidationError) -> Sample {
        var reader = FieldReader(body: try! JSONParser.parse(Array(json.utf8)), rules: nil)
        let value = Sample(reading: &reader)
        try reader.finish()
        return value
    }

    @Test func collectsEveryFieldProblem() {
        do {
            _ = try read(#"{"email": 5, "name": "long", "nul": "a\u0000b"}"#)
            Issue.record("no error")
        } catch {
            #expect(error.issues.map(\.type) == ["string_type", "missing", "string_too_long", "value_error"])
            #expect(error.issues.map(\.location) == [["body", "email"], ["body", "password"], ["body", "name"], ["body", "nul"]])
            #expect(error.issues[1].message == "Field required")
        }
    }

    @Test func aPartialUpdateTellsAbsentFromNullFromAValue() throws {
        let base = #""email": "a@b.io", "password": "p", "name": "abc", "nul": "x""#
        #expect(try read("{\(base)}").bio == .absent)
        #expect(try read("{\(base), \"bio\": null}").bio == .null)
        #expect(try read("{\(base), \"bio\": \"hello\"}").bio == .value("hello"))
        #expect(try read("{\(base), \"nickname\": null}").nickname == nil)
        #expect(throws: ValidationError.self) { try read("{\(base), \"bio\": 5}") }
    }

    /// Lengths are code points, as PostgreSQL's length() counts: one grapheme of many combining marks is many.
    @Test func lengthsAreCountedInCodePoints() throws {
        let base = #""email": "a@b.io", "password": "p", "nul": "x""#
        #expect(try read("{\(base), \"name\": \"a\u{301}\u{301}\"}").name == "a\u{301}\u{301}")
        #expect(throws: ValidationError.self) { try read("{\(base), \"name\": \"a\u{301}\u{301}\u{301}\"}") }
    }

    /// An empty string is present: it gets the value checks (found by Schemathesis: `""` everywhere once registered
    /// an account with an empty password, and an empty email reached the database's CHECK constraint).
    @Test func emptyStringsAreCheckedLikeAnyValue() {
        let rules = PasswordRules(policy: PasswordPolicy(minimumLength: 8, requireUppercase: true, requireLowercase: true, requireDigit: true))
        var reader = FieldReader(body: try! JSONParser.parse(Array(#"{"email": "", "username": "", "password": "", "confirm_password": ""}"#.utf8)),
                                 rules: rules)
        _ = RegisterRequest(reading: &reader)
        let fields = reader.issues.map { $0.location }.reduce(into: [[JSONValue]]()) { if $0.last != $1 { $0.append($1) } }
        #expect(fields == [["body", "email"], ["body", "username"], ["body", "password"]])
        #expect(reader.issues.contains { $0.message == "Value error, Password must be at least 8 characters long" })
    }

    @Test func theSchemaComesFromTheSameCode() {
        let schema = Sample.schema
        #expect(schema.properties.map(\.name) == ["email", "password", "name", "nul", "nickname", "bio"])
        #expect(schema.properties.map(\.required) == [true, true, true, true, false, false])
        #expect(schema.properties[0].schema == .string(maxLength: 254, format: "email"))
        #expect(schema.properties[4].schema == .nullable(.string(maxLength: 10)))
    }
}
