import HTTP

/// How one field's value is checked and what its schema is: a string of a bounded length, an integer in a range,
/// one of a list of values, a list of such values, a nested object... `FieldReader` applies a rule to a member of
/// the body and reports problems as Pydantic v2 does (`type`, `loc`, `msg`, `ctx`).
struct FieldRule<Value> {
    /// Built only when described, not on every request (a nested model's schema is a whole model to describe).
    private let describe: () -> Schema
    /// The value, or nil after adding the problems (at `location`) to `issues`.
    let parse: (_ raw: JSONValue, _ location: [JSONValue], _ issues: inout [ValidationIssue]) -> Value?

    init(schema: @autoclosure @escaping () -> Schema,
         parse: @escaping (_ raw: JSONValue, _ location: [JSONValue], _ issues: inout [ValidationIssue]) -> Value?) {
        describe = schema
        self.parse = parse
    }

    var schema: Schema { describe() }
}

extension FieldRule where Value == String {
    /// A string of at most `maxLength` code points (as PostgreSQL's length() and Python's len() count), no NUL.
    static func string(maxLength: Int, minLength: Int? = nil, format: String? = nil) -> FieldRule {
        FieldRule(schema: .string(minLength: minLength, maxLength: maxLength, format: format)) { raw, location, issues in
            guard case .string(let text) = raw else {
                issues.append(ValidationIssue(location: location, message: "Input should be a valid string", type: "string_type"))
                return nil
            }
            let length = text.unicodeScalars.count
            if let minLength, length < minLength {
                issues.append(ValidationIssue(location: location, message: "String should have at least \(minLength) character\(minLength == 1 ? "" : "s")",
                                              type: "string_too_short", context: .object([("min_length", .integer(minLength))])))
                return nil
            }
            if length > maxLength {
                issues.append(ValidationIssue(location: location, message: "String should have at most \(maxLength) characters",
                                              type: "string_too_long", context: .object([("max_length", .integer(maxLength))])))
                return nil
            }
            if text.utf8.contains(0) {
                issues.append(ValidationIssue(location: location, message: "Value error, must not contain a NUL character", type: "value_error"))
                return nil
            }
            return text
        }
    }

    /// One of `values`, as a Python `Enum` or `Literal` field: a 422 that lists the allowed values in `ctx`.
    static func oneOf(_ values: [String]) -> FieldRule {
        let expected = values.map { "'\($0)'" }.dropLast().joined(separator: ", ") + (values.count > 1 ? " or " : "") + "'\(values.last ?? "")'"
        return FieldRule(schema: .string(values: values)) { raw, location, issues in
            guard case .string(let text) = raw, values.contains(text) else {
                issues.append(ValidationIssue(location: location, message: "Input should be \(expected)", type: "enum",
                                              context: .object([("expected", .string(expected))])))
                return nil
            }
            return text
        }
    }

    /// An `http` or `https` URL with a host, at most `maxLength` code points.
    static func httpURL(maxLength: Int = 2048) -> FieldRule {
        string(maxLength: maxLength, format: "uri").checked { text, location, issues in
            // Bytes, as the table's CHECK (`~* '^https?://[^/?#]'`) sees them: a combining mark after "?" is not a host.
            let bytes = Array(text.utf8)
            let lowered = bytes.prefix(8).map { (65...90).contains($0) ? $0 + 32 : $0 }
            guard let scheme = [Array("https://".utf8), Array("http://".utf8)].first(where: { lowered.starts(with: $0) }) else {
                issues.append(ValidationIssue(location: location, message: "URL scheme should be 'http' or 'https'", type: "url_scheme",
                                              context: .object([("expected_schemes", "'http' or 'https'")])))
                return false
            }
            let host = bytes.dropFirst(scheme.count).prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
            guard !host.isEmpty, !host.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
                issues.append(ValidationIssue(location: location, message: "Input should be a valid URL, empty host", type: "url_parsing",
                                              context: .object([("error", "empty host")])))
                return false
            }
            return true
        }
    }

    /// A calendar date `YYYY-MM-DD`.
    static var date: FieldRule {
        string(maxLength: 10, format: "date").checked { text, location, issues in
            // Exactly `DDDD-DD-DD` in ASCII digits (Int() alone would take "+1", and counting characters would take
            // other scripts' digits): what PostgreSQL's date type then reads the same way.
            let bytes = Array(text.utf8)
            let shaped = bytes.count == 10 && bytes.enumerated().allSatisfy { index, byte in
                index == 4 || index == 7 ? byte == UInt8(ascii: "-") : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            }
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            if shaped, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
               (1...9999).contains(year), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) {
                return true
            }
            issues.append(ValidationIssue(location: location, message: "Input should be a valid date in the format YYYY-MM-DD",
                                          type: "date_from_datetime_parsing"))
            return false
        }
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// A string matching `pattern` (documented), checked by `matches`.
    static func matching(_ pattern: String, maxLength: Int, _ matches: @escaping (String) -> Bool) -> FieldRule {
        let base = string(maxLength: maxLength)
        return FieldRule(schema: .string(maxLength: maxLength, pattern: pattern)) { raw, location, issues in
            guard let text = base.parse(raw, location, &issues) else { return nil }
            guard matches(text) else {
                issues.append(ValidationIssue(location: location, message: "String should match pattern '\(pattern)'",
                                              type: "string_pattern_mismatch", context: .object([("pattern", .string(pattern))])))
                return nil
            }
            return text
        }
    }
}

extension FieldRule {
    /// This rule, then `check` on the value it produced.
    func checked(_ check: @escaping (Value, [JSONValue], inout [ValidationIssue]) -> Bool) -> FieldRule {
        FieldRule(schema: self.schema) { raw, location, issues in
            guard let value = self.parse(raw, location, &issues), check(value, location, &issues) else { return nil }
            return value
        }
    }

    /// A list of values of `element`'s rule, at most `maxItems` of them; each problem names its index.
    static func list<Element>(_ element: FieldRule<Element>, maxItems: Int) -> FieldRule where Value == [Element] {
        FieldRule(schema: .array(element.schema, maxItems: maxItems)) { raw, location, issues in
            guard case .array(let items) = raw else {
                issues.append(ValidationIssue(location: location, message: "Input should be a valid list", type: "list_type"))
                return nil
            }
            guard items.count <= maxItems else {
                issues.append(ValidationIssue(
                    location: location, message: "List should have at most \(maxItems) item\(maxItems == 1 ? "" : "s") after validation, not \(items.count)",
                    type: "too_long", context: .object([("field_type", "List"), ("max_length", .integer(maxItems)), ("actual_length", .integer(items.count))])))
                return nil
            }
            let before = issues.count
            let values = items.enumerated().compactMap { index, item in element.parse(item, location + [.integer(index)], &issues) }
            return issues.count == before ? values : nil
        }
    }
}

extension FieldRule where Value == Int {
    static func integer(_ range: ClosedRange<Int>) -> FieldRule {
        FieldRule(schema: .integer(minimum: range.lowerBound, maximum: range.upperBound)) { raw, location, issues in
            let number: Int
            switch raw {
            case .integer(let value): number = value
            case .number(let value) where value.rounded() == value && abs(value) < 1e15: number = Int(value)
            default:
                issues.append(ValidationIssue(location: location, message: "Input should be a valid integer", type: "int_type"))
                return nil
            }
            if number < range.lowerBound {
                issues.append(ValidationIssue(location: location, message: "Input should be greater than or equal to \(range.lowerBound)",
                                              type: "greater_than_equal", context: .object([("ge", .integer(range.lowerBound))])))
                return nil
            }
            if number > range.upperBound {
                issues.append(ValidationIssue(location: location, message: "Input should be less than or equal to \(range.upperBound)",
                                              type: "less_than_equal", context: .object([("le", .integer(range.upperBound))])))
                return nil
            }
            return number
        }
    }
}

extension FieldRule where Value == Bool {
    static var boolean: FieldRule {
        FieldRule(schema: .boolean) { raw, location, issues in
            guard case .bool(let value) = raw else {
                issues.append(ValidationIssue(location: location, message: "Input should be a valid boolean", type: "bool_type"))
                return nil
            }
            return value
        }
    }
}

extension FieldRule where Value: RequestModel {
    /// A nested object read by its model, its problems located below this field.
    static func object(_ model: Value.Type) -> FieldRule {
        FieldRule(schema: .object(model.schema)) { raw, location, issues in
            guard case .object = raw else {
                issues.append(ValidationIssue(location: location, message: "Input should be a valid dictionary or instance of \(model.schemaName)",
                                              type: "model_type"))
                return nil
            }
            var reader = FieldReader(object: raw, location: location)
            let value = Value(reading: &reader)
            issues += reader.issues
            return reader.issues.isEmpty ? value : nil
        }
    }
}
