import HTTP

/// The fields a partial update sent, as one JSON object for its upsert: a member present is a field to set (JSON
/// null clears it), a member absent is a field to leave. The statement reads each column as
/// `CASE WHEN $n::jsonb ? 'field' THEN <the sent value> ELSE <the stored one> END`, so the change is one statement
/// whatever was sent, and its values are bound, never spliced into the SQL.
struct SentFields {
    private(set) var members: [(String, JSONValue)] = []

    var json: JSONValue { .object(members) }

    mutating func add(_ name: String, _ patch: Patch<String>) {
        add(name, patch, cleared: .null, JSONValue.string)
    }

    mutating func add(_ name: String, _ patch: Patch<Int>) {
        add(name, patch, cleared: .null, JSONValue.integer)
    }

    /// A list: null clears it to the empty list.
    mutating func add(_ name: String, _ patch: Patch<[String]>) {
        add(name, patch, cleared: .array([])) { .array($0.map(JSONValue.string)) }
    }

    mutating func add<Value>(_ name: String, _ patch: Patch<Value>, cleared: JSONValue, _ json: (Value) -> JSONValue) {
        switch patch {
        case .absent: break
        case .null: members.append((name, cleared))
        case .value(let value): members.append((name, json(value)))
        }
    }

    /// A field that cannot be cleared: nil when it was not sent.
    mutating func add(_ name: String, _ value: String?) {
        if let value { members.append((name, .string(value))) }
    }

    mutating func add(_ name: String, _ value: Bool?) {
        if let value { members.append((name, .bool(value))) }
    }
}
