@testable import HTTP
import Testing

@Suite struct JSONTests {
    func parse(_ text: String) throws(JSONParser.Failure) -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func parsesDocuments() throws {
        let value = try parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d\u00e9\ud83d\ude00\n"}} "#)
        #expect(value["a"] == .array([.integer(1), .number(-2500), .bool(true), .bool(false), .null]))
        #expect(value["b"]?["c"] == .string("dé😀\n"))
    }

    @Test func reportsWhereItFailed() {
        for (text, position) in [("{\"a\": }", 6), ("", 0), ("{\"a\" 1}", 5), ("[1,]", 3), ("{} x", 3), ("\"abc", 4)] {
            #expect(throws: JSONParser.Failure.self) { try parse(text) }
            do { _ = try parse(text) } catch { #expect(error.position == position, "\(text)") }
        }
    }

    @Test func refusesInvalidInput() {
        for text in ["\"\u{01}\"", "\"\\x\"", "\"\\ud800\"", "01", "1.", "-", "tru", "[1 2]", "{\"a\":1,}", "NaN", "1e999"] {
            #expect(throws: JSONParser.Failure.self, "\(text)") { try parse(text) }
        }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { try parse(deep) }
        let fine = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        _ = try parse(fine)
        let objects = String(repeating: "{\"a\":", count: 33) + "1" + String(repeating: "}", count: 33)
        #expect(throws: JSONParser.Failure.self) { try parse(objects) }
    }

    @Test func writesEscapedCompactJSON() throws {
        let value = JSONValue.object([("k\"", .string("a\\b\n\u{01}é")), ("n", .integer(-3)), ("x", .null), ("l", .array([true, .number(1.5)]))])
        #expect(value.text == #"{"k\"":"a\\b\n\u0001é","n":-3,"x":null,"l":[true,1.5]}"#)
        #expect(try parse(value.text) == value)
    }

    /// Keys are compared as bytes, in expected constant time each: past the first few, through a hash table.
    @Test func repeatedKeysKeepTheLastValueInObjectsOfAnySize() throws {
        for count in [3, 16, 17, 40] {
            let members = (0..<count).map { "\"k\($0)\": \($0)" } + ["\"k1\": \"last\"", "\"k\(count - 1)\": null"]
            let value = try parse("{" + members.joined(separator: ",") + "}")
            guard case .object(let parsed) = value else { Issue.record("not an object"); continue }
            #expect(parsed.count == count)
            #expect(value["k1"] == "last" && value["k\(count - 1)"] == .null && value["k0"] == .integer(0))
        }
        // "e" + U+0301 and "é" are canonically equivalent strings, but different keys, as in Python's json.
        let value = try parse(#"{"e\u0301": 1, "\u00e9": 2}"#)
        guard case .object(let parsed) = value else { Issue.record("not an object"); return }
        #expect(parsed.count == 2 && value["\u{e9}"] == .integer(2))
    }

    @Test func membersOfOneObjectOrArrayAreBounded() throws {
        let limits = JSONParser.Limits(maximumMembers: 3)
        _ = try JSONParser.parse(Array(#"{"a": [1, 2, 3], "b": 1, "c": {"x": 1, "y": 2, "z": 3}}"#.utf8), limits: limits)
        for (text, path) in [(#"[1, 2, 3, 4]"#, [JSONValue]()),
                             (#"{"a": 1, "b": 2, "c": 3, "d": 4}"#, []),
                             (#"{"skills": ["a", "b", "c", "d"]}"#, ["skills"]),
                             (#"{"x": [0, {"a": 1, "b": 2, "c": 3, "d": 4}]}"#, ["x", 1])] {
            do {
                _ = try JSONParser.parse(Array(text.utf8), limits: limits)
                Issue.record("parsed \(text)")
            } catch {
                #expect(error.tooLongAt == path, "\(text)")
            }
        }
        // A repeated key is not a new member.
        _ = try JSONParser.parse(Array(#"{"a": 1, "b": 2, "c": 3, "a": 4}"#.utf8), limits: limits)
    }
}
