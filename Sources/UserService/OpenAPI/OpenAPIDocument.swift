/// `GET /openapi.json`: an OpenAPI 3.1 document of `Routes.table`, one operation per route, with its `servers`
/// built from the request's mount point (never one cached document for every mount).
///
/// Minimal on purpose: paths, path parameters, an operation id, a summary and a 200 answer per route. The full
/// generator (bodies, responses, security) replaces the insides of `json(mountPath:)` and keeps its signature.
enum OpenAPIDocument {
    static func json(mountPath: String) -> [UInt8] {
        var paths: [(template: String, operations: [(String, JSONValue)])] = []
        for route in Routes.table {
            let operation = operation(method: route.method, template: route.template)
            if let index = paths.firstIndex(where: { $0.template == route.template }) {
                paths[index].operations.append((route.method.rawValue.lowercased(), operation))
            } else {
                paths.append((route.template, [(route.method.rawValue.lowercased(), operation)]))
            }
        }
        let server = mountPath.isEmpty ? "/" : PercentEncoding.path(mountPath)
        return JSONValue.object([
            ("openapi", "3.1.0"),
            ("info", .object([("title", .string(DocsPages.title)), ("version", .string(ServiceVersion.version))])),
            ("servers", .array([.object([("url", .string(server))])])),
            ("paths", .object(paths.map { ($0.template, .object($0.operations)) })),
        ]).bytes
    }

    private static func operation(method: HTTPMethod, template: String) -> JSONValue {
        let parameters = template.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }.map { part in
            JSONValue.object([
                ("name", .string(String(part.dropFirst().dropLast()))), ("in", "path"), ("required", true),
                ("schema", .object([("type", "string")])),
            ])
        }
        var members: [(String, JSONValue)] = [
            ("operationId", .string(operationID(method: method, template: template))),
            ("summary", .string("\(method.rawValue) \(template)")),
        ]
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        members.append(("responses", .object([("200", .object([("description", "Successful Response")]))])))
        return .object(members)
    }

    /// `DELETE /api/v1/auth/sessions/{session_id}` → `delete_api_v1_auth_sessions_session_id`; `GET /` → `get_root`.
    static func operationID(method: HTTPMethod, template: String) -> String {
        let words = template.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }.map { $0.lowercased() }
        return ([method.rawValue.lowercased()] + (words.isEmpty ? ["root"] : words)).joined(separator: "_")
    }
}
