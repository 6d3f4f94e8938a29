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
