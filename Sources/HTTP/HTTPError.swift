/// An error that is meant for the client: its status, headers and JSON body are what the client sees.
public protocol HTTPResponseError: Error {
    var status: HTTPStatus { get }
    var headers: [(String, String)] { get }
    /// The JSON body: FastAPI's `{"detail": ...}` unless the error says otherwise.
    var body: [UInt8] { get }
}

/// The errors whose body is `{"detail": detail}`.
public protocol DetailedError: HTTPResponseError {
    var detail: JSONValue { get }
}

extension DetailedError {
    public var body: [UInt8] { JSONValue.object([("detail", detail)]).bytes }
}

/// The service's errors in FastAPI's `{"detail": "..."}` shape.
public struct APIError: DetailedError, Equatable {
    public let status: HTTPStatus
    public let message: String
    public let headers: [(String, String)]

    public init(_ status: HTTPStatus, _ message: String, headers: [(String, String)] = []) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public var detail: JSONValue { .string(message) }

    public static func == (a: APIError, b: APIError) -> Bool {
        a.status == b.status && a.message == b.message && a.headers.elementsEqual(b.headers, by: ==)
    }

    public static let notFound = APIError(.notFound, "Not Found")
    public static let bodyTooLarge = APIError(.contentTooLarge, "Request body too large")
    public static let databaseUnavailable = APIError(.serviceUnavailable, "Database unavailable")
    public static let internalError = APIError(.internalServerError, "Internal Server Error")

    public static func methodNotAllowed(allowed: [HTTPMethod]) -> APIError {
        APIError(.methodNotAllowed, "Method Not Allowed", headers: [("Allow", allowed.map(\.rawValue).joined(separator: ", "))])
    }

    /// 401 with the challenge RFC 6750 asks for.
    public static func unauthorized(_ message: String = "Could not validate credentials") -> APIError {
        APIError(.unauthorized, message, headers: [("WWW-Authenticate", "Bearer")])
    }
}

/// One entry of a 422 `detail` list, as Pydantic v2 reports it.
public struct ValidationIssue: Equatable, Sendable {
    public var location: [JSONValue]
    public var message: String
    public var type: String
    public var context: JSONValue?

    public init(location: [JSONValue], message: String, type: String, context: JSONValue? = nil) {
        self.location = location
        self.message = message
        self.type = type
        self.context = context
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [("type", .string(type)), ("loc", .array(location)), ("msg", .string(message))]
        if let context { members.append(("ctx", context)) }
        return .object(members)
    }
}

/// A 422 with `{"detail": [{"loc", "msg", "type"}, ...]}`. Inputs are not echoed: they may be passwords.
public struct ValidationError: DetailedError, Equatable {
    public var issues: [ValidationIssue]

    public init(_ issues: [ValidationIssue]) { self.issues = issues }

    public init(field: String, message: String, type: String = "value_error") {
        self.issues = [ValidationIssue(location: ["body", .string(field)], message: message, type: type)]
    }

    public var status: HTTPStatus { .unprocessableEntity }
    public var detail: JSONValue { .array(issues.map(\.json)) }
    public var headers: [(String, String)] { [] }
}
