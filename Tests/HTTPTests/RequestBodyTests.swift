@testable import HTTP
import Testing

@Suite struct RequestBodyTests {
    func request(_ body: String, contentType: String? = nil) -> HTTPRequest {
        HTTPRequest(method: "POST", path: "/", contentType: contentType, body: Array(body.utf8))
    }

    /// FastAPI reads the body as JSON only without a content type or with a JSON media type.
    @Test func onlyJSONMediaTypesAreParsed() throws {
        for type in [nil, "", "application/json", "application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json",
                     "application/vnd.api+json ; charset=UTF-8"] {
            #expect(try RequestBody(request(#"{"a": "b"}"#, contentType: type)).value["a"] == "b", "\(type ?? "nil")")
        }
        for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json",
                     "application/jsonp", "application/json-seq", "application/x/+json"] {
            do {
                _ = try RequestBody(request(#"{"a": "b"}"#, contentType: type))
                Issue.record("parsed as \(type)")
            } catch {
                #expect(error.issues.map(\.type) == ["model_attributes_type"] && error.issues[0].location == ["body"], "\(type)")
            }
        }
    }

    @Test func tooManyMembersNamesWhereAndComesBeforeAnyField() {
        do {
            _ = try RequestBody(request(#"{"skills": [1, 2, 3, 4, 5]}"#), limits: JSONParser.Limits(maximumMembers: 4))
            Issue.record("parsed")
        } catch {
            #expect(error.detail.text == #"[{"type":"too_long","loc":["body","skills"],"msg":"Value should have at most 4 items","ctx":{"max_length":4}}]"#)
        }
    }

    /// Lengths are code points, as PostgreSQL's length() counts: one grapheme of many combining marks is many.
    @Test func lengthsAreCountedInCodePoints() throws {
        let graphemeOfTenCodePoints = "a" + String(repeating: "\u{301}", count: 9)
        var body = try RequestBody(request("{\"name\": \"\(graphemeOfTenCodePoints)\"}"))
        #expect(body.string("name", maxLength: 9) == nil)
        #expect(body.string("name", maxLength: 10) == graphemeOfTenCodePoints)
    }

    @Test func malformedJSONIsFastAPIsJsonInvalid() {
        do {
            _ = try RequestBody(request("{\"email\": "))
            Issue.record("parsed")
        } catch {
            #expect(error.detail.text == #"[{"type":"json_invalid","loc":["body",10],"msg":"JSON decode error","ctx":{"error":"Expecting value"}}]"#)
        }
    }

    @Test func emptyAndNonObjectBodies() {
        #expect(throws: ValidationError([ValidationIssue(location: ["body"], message: "Field required", type: "missing")])) {
            _ = try RequestBody(request(""))
        }
        #expect(throws: ValidationError([ValidationIssue(location: ["body"], message: "Input should be a valid dictionary or object to extract fields from", type: "model_attributes_type")])) {
            _ = try RequestBody(request("[1]"))
        }
    }

    @Test func collectsEveryFieldProblem() throws {
        var body = try RequestBody(request(#"{"email": 5, "name": "x", "nul": "a\u0000b"}"#))
        #expect(body.string("email") == nil)
        #expect(body.string("password") == nil)
        #expect(body.string("name", maxLength: 0) == nil)
        #expect(body.string("nul") == nil)
        #expect(body.optionalString("absent") == .some(nil))
        do {
            try body.finish()
            Issue.record("no error")
        } catch {
            #expect(error.issues.map(\.type) == ["string_type", "missing", "string_too_long", "value_error"])
            #expect(error.issues[1].location == ["body", "password"])
            #expect(error.issues[1].message == "Field required")
        }
    }
}
