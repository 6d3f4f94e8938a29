import HTTP
/// `{"detail": "..."}`: every error this service answers with, as FastAPI's HTTPException does.
struct ErrorDetail: ResponseModel {
    static let schemaName = "HTTPError"
    static let example = ErrorDetail(detail: "Not Found")
    let detail: String

    func write(to object: inout FieldWriter) { object.field("detail", detail) }
}

/// `{"message": "..."}`.
struct Message: ResponseModel {
    static let schemaName = "Message"
    static let example = Message("Successfully logged out")
    let message: String

    init(_ message: String) { self.message = message }

    func write(to object: inout FieldWriter) { object.field("message", message) }
}

/// One page of a list: `{"items", "total", "limit", "offset"}` (the caller's events, the administrators' user list,
/// the directory).
struct Page<Item: ResponseModel>: ResponseModel {
    static var schemaName: String { Item.schemaName + "Page" }
    static var example: Page { Page(items: [Item.example], total: 1, limit: 20, offset: 0) }
    let items: [Item]
    let total: Int
    let limit: Int
    let offset: Int

    func write(to object: inout FieldWriter) {
        object.field("items", items)
        object.field("total", total)
        object.field("limit", limit)
        object.field("offset", offset)
    }
}

/// A text answer (`/metrics`).
struct PlainText: ResponseBody {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    static let bodySchema = Schema.string()
    let body: [UInt8]
}

/// FastAPI's 422 body, for the document: `{"detail": [{"type", "loc", "msg", "ctx"?}]}`.
enum ValidationErrorSchema {
    static let issue = ObjectSchema(name: "ValidationError", properties: [
        .init(name: "type", schema: .string(), required: true),
        .init(name: "loc", schema: .array(.stringOrInteger), required: true),
        .init(name: "msg", schema: .string(), required: true),
        .init(name: "ctx", schema: .object(ObjectSchema(name: "ValidationErrorContext", properties: [])), required: false),
    ])
    static let body = ObjectSchema(name: "HTTPValidationError", properties: [
        .init(name: "detail", schema: .array(.object(issue)), required: true),
    ])
}

/// An error answered with a model's body instead of `{"detail": ...}` (`/health`'s 503 also says what is down).
struct ModelError<Model: ResponseModel>: HTTPResponseError {
    let status: HTTPStatus
    let model: Model
    var headers: [(String, String)] { [] }
    var body: [UInt8] { model.jsonBytes }
}
