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
}
