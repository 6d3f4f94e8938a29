import Testing
@testable import UserService

@Suite struct RequestBodyTests {
    func request(_ body: String) -> HTTPRequest {
        HTTPRequest(method: "POST", path: "/", body: Array(body.utf8))
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
