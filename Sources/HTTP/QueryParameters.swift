/// Reads query parameters, collecting problems into one FastAPI-shaped 422 (`loc: ["query", name]`).
public final class QueryParameters {
    private let request: HTTPRequest
    private var issues: [ValidationIssue] = []

    public init(_ request: HTTPRequest) { self.request = request }

    public func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
        guard let text = request.queryParameter(name) else { return fallback }
        guard let value = Int(text) else {
            issues.append(ValidationIssue(location: ["query", .string(name)],
                                          message: "Input should be a valid integer, unable to parse string as an integer", type: "int_parsing"))
            return fallback
        }
        if value < range.lowerBound {
            issues.append(ValidationIssue(location: ["query", .string(name)], message: "Input should be greater than or equal to \(range.lowerBound)",
                                          type: "greater_than_equal", context: .object([("ge", .integer(range.lowerBound))])))
        } else if value > range.upperBound {
            issues.append(ValidationIssue(location: ["query", .string(name)], message: "Input should be less than or equal to \(range.upperBound)",
                                          type: "less_than_equal", context: .object([("le", .integer(range.upperBound))])))
        }
        return value
    }

    public func finish() throws(ValidationError) {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}

@available(*, unavailable)
extension QueryParameters: Sendable {}
