import HTTP
/// Reads query parameters into a typed value, and describes them, as `FieldReader` does for bodies: problems are
/// collected into one FastAPI-shaped 422 (`loc: ["query", name]`).
struct QueryReader {
    private let request: HTTPRequest?
    private(set) var issues: [ValidationIssue] = []
    private(set) var parameters: [ObjectSchema.Property] = []

    init(_ request: HTTPRequest) { self.request = request }

    static func describing() -> QueryReader { QueryReader(request: nil) }

    private init(request: HTTPRequest?) { self.request = request }

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

    /// An optional string of at most `maxLength` code points, no NUL; nil when absent.
    mutating func string(_ name: String, maxLength: Int) -> String? {
        guard let text = value(name, schema: .nullable(.string(maxLength: maxLength))) else { return nil }
        if text.unicodeScalars.count > maxLength {
            issues.append(ValidationIssue(location: ["query", .string(name)], message: "String should have at most \(maxLength) characters",
                                          type: "string_too_long", context: .object([("max_length", .integer(maxLength))])))
            return nil
        }
        if text.utf8.contains(0) {
            issues.append(ValidationIssue(location: ["query", .string(name)], message: "Value error, must not contain a NUL character",
                                          type: "value_error"))
            return nil
        }
        return text
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
