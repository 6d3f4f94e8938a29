import HTTP
/// Reads query parameters into a typed value, and describes them, as `FieldReader` does for bodies: problems are
/// collected into one FastAPI-shaped 422 (`loc: ["query", name]`).
struct QueryReader {
    fileprivate let request: HTTPRequest?
    private(set) var issues: [ValidationIssue] = []
    private(set) var parameters: [ObjectSchema.Property] = []

    init(_ request: HTTPRequest) { self.request = request }

    static func describing() -> QueryReader { QueryReader(request: nil) }

    private init(request: HTTPRequest?) { self.request = request }

    fileprivate mutating func appendParameter(_ parameter: ObjectSchema.Property) { parameters.append(parameter) }
    fileprivate mutating func appendIssue(_ issue: ValidationIssue) { issues.append(issue) }

    /// An optional integer in `range`, `fallback` when absent.
    mutating func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
        guard let request else {
            parameters.append(.init(name: name, schema: .integer(minimum: range.lowerBound, maximum: range.upperBound), required: false))
            return fallback
        }
        guard let text = request.queryParameter(name) else { return fallback }
        let location: [JSONValue] = ["query", .string(name)]
        guard let value = Int(text) else {
            issues.append(ValidationIssue(location: location, message: "Input should be a valid integer, unable to parse string as an integer",
                                          type: "int_parsing"))
            return fallback
        }
        if value < range.lowerBound {
            issues.append(ValidationIssue(location: location, message: "Input should be greater than or equal to \(range.lowerBound)",
                                          type: "greater_than_equal", context: .object([("ge", .integer(range.lowerBound))])))
        } else if value > range.upperBound {
            issues.append(ValidationIssue(location: location, message: "Input should be less than or equal to \(range.upperBound)",
                                          type: "less_than_equal", context: .object([("le", .integer(range.upperBound))])))
        }
        return value
    }

    /// An optional boolean, as Pydantic reads one (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, `t`/`f`, `y`/`n`,
    /// in any letter case); nil when absent.
    mutating func boolean(_ name: String) -> Bool? {
        guard let text = value(name, schema: .nullable(.boolean)) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes", "on", "t", "y": return true
        case "false", "0", "no", "off", "f", "n": return false
        default:
            issues.append(ValidationIssue(location: ["query", .string(name)], message: "Input should be a valid boolean, unable to interpret input",
                                          type: "bool_parsing"))
            return nil
        }
    }

    /// An optional date or date-time (`TimestampText`: a date is its midnight UTC, a time without a zone is UTC);
    /// nil when absent.
    mutating func timestamp(_ name: String) -> TimestampText? {
        guard let text = value(name, schema: .nullable(.string(format: "date-time"))) else { return nil }
        guard let timestamp = TimestampText(text) else {
            issues.append(ValidationIssue(location: ["query", .string(name)], message: "Input should be a valid datetime or date",
                                          type: "datetime_from_date_parsing"))
            return nil
        }
        return timestamp
    }

    /// The parameter's text (nil when absent), or — while describing — nil after recording it as optional.
    private mutating func value(_ name: String, schema: Schema) -> String? {
        guard let request else {
            parameters.append(.init(name: name, schema: schema, required: false))
            return nil
        }
        return request.queryParameter(name)
    }
}

extension QueryReader {
    /// An optional string of 1...`maxLength` code points once trimmed; nil when absent or blank.
    mutating func string(_ name: String, maxLength: Int) -> String? {
        guard let request else {
            appendParameter(.init(name: name, schema: .nullable(.string(maxLength: maxLength)), required: false))
            return nil
        }
        guard let text = request.queryParameter(name)?.trimmingWhitespace(), !text.isEmpty else { return nil }
        if text.unicodeScalars.contains("\u{0}") {
            appendIssue(Self.nulIssue(["query", .string(name)]))
        } else if text.unicodeScalars.count > maxLength {
            appendIssue(ValidationIssue(location: ["query", .string(name)], message: "String should have at most \(maxLength) characters",
                                        type: "string_too_long", context: .object([("max_length", .integer(maxLength))])))
        }
        return text
    }

    /// A list, sent repeated (`?skills=a&skills=b`) or comma-separated (`?skills=a,b`), or both: blank items are
    /// dropped; at most `maxItems` items of at most `maxLength` code points each.
    mutating func list(_ name: String, maxItems: Int, maxLength: Int) -> [String] {
        guard let request else {
            appendParameter(.init(name: name, schema: .array(.string(maxLength: maxLength), maxItems: maxItems), required: false))
            return []
        }
        let items = request.queryValues(name).flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        if items.count > maxItems {
            appendIssue(ValidationIssue(location: ["query", .string(name)], message: "List should have at most \(maxItems) items after validation, not \(items.count)",
                                        type: "too_long", context: .object([("field_type", "List"), ("max_length", .integer(maxItems)),
                                                                            ("actual_length", .integer(items.count))])))
        }
        for (index, item) in items.enumerated() where item.unicodeScalars.contains("\u{0}") {
            appendIssue(Self.nulIssue(["query", .string(name), .integer(index)]))
        }
        for (index, item) in items.enumerated() where item.unicodeScalars.count > maxLength {
            appendIssue(ValidationIssue(location: ["query", .string(name), .integer(index)], message: "String should have at most \(maxLength) characters",
                                        type: "string_too_long", context: .object([("max_length", .integer(maxLength))])))
        }
        return items
    }

    /// PostgreSQL's text holds no NUL (libpq would cut the value there), as `FieldRule` refuses it in bodies.
    private static func nulIssue(_ location: [JSONValue]) -> ValidationIssue {
        ValidationIssue(location: location, message: "Value error, must not contain a NUL character", type: "value_error")
    }

    /// An optional value out of `values`; nil when absent.
    mutating func choice(_ name: String, _ values: [String]) -> String? {
        guard let request else {
            appendParameter(.init(name: name, schema: .nullable(.string(values: values)), required: false))
            return nil
        }
        guard let text = request.queryParameter(name), !text.isEmpty else { return nil }
        guard values.contains(text) else {
            let expected = values.dropLast().map { "'\($0)'" }.joined(separator: ", ") + (values.count > 1 ? " or " : "") + "'\(values.last ?? "")'"
            appendIssue(ValidationIssue(location: ["query", .string(name)], message: "Input should be \(expected)", type: "enum",
                                        context: .object([("expected", .string(expected))])))
            return nil
        }
        return text
    }

    /// An optional integer in `range`; nil when absent.
    mutating func optionalInteger(_ name: String, range: ClosedRange<Int>) -> Int? {
        guard let request else {
            appendParameter(.init(name: name, schema: .nullable(.integer(minimum: range.lowerBound, maximum: range.upperBound)), required: false))
            return nil
        }
        guard request.queryParameter(name) != nil else { return nil }
        return integer(name, default: range.lowerBound, range: range)
    }
}

/// A route's query parameters: read (and described) by `init(reading:)`.
protocol QueryModel: RouteInput {
    init(reading query: inout QueryReader)
}

extension QueryModel {
    static var parameters: [ObjectSchema.Property] {
        var reader = QueryReader.describing()
        _ = Self(reading: &reader)
        return reader.parameters
    }

    static func decode(_ request: HTTPRequest) throws(ValidationError) -> Self {
        var reader = QueryReader(request)
        let value = Self(reading: &reader)
        if !reader.issues.isEmpty { throw ValidationError(reader.issues) }
        return value
    }
}
