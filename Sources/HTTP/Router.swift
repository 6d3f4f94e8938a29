/// What a handler receives: the request, the values of the route's `{placeholders}` and the bounds of a body.
public struct RequestContext {
    public let request: HTTPRequest
    public let parameters: [String: String]
    public var jsonLimits = JSONParser.Limits()

    public init(request: HTTPRequest, parameters: [String: String], jsonLimits: JSONParser.Limits = JSONParser.Limits()) {
        self.request = request
        self.parameters = parameters
        self.jsonLimits = jsonLimits
    }

    public func parameter(_ name: String) -> String { parameters[name] ?? "" }
}

public typealias RouteHandler = (RequestContext) throws -> HTTPResponse

/// Routes on the path below the mount point. Templates are literal segments and `{name}` placeholders.
public struct Router {
    public struct Route {
        public let method: HTTPMethod
        public let template: String
        /// Position in the table: the metrics slot of this route.
        public let index: Int
        let segments: [Segment]
        public let handler: RouteHandler
    }

    /// A template's segment. Literals are kept as UTF-8 bytes: paths are split and compared byte for byte, as
    /// nginx's regexes see them, never as Swift characters (a "/" followed by a combining mark is one character,
    /// and "K" equals the Kelvin sign U+212A), so nginx and the router always agree on which route a path is.
    enum Segment: Equatable {
        case literal([UInt8])
        case parameter(String)
    }

    public enum Match {
        case found(Route, parameters: [String: String])
        case methodNotAllowed([HTTPMethod])
        case notFound
    }

    public private(set) var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ template: String, _ handler: @escaping RouteHandler) {
        let segments = template.split(separator: "/").map { part -> Segment in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(Array(part.utf8))
        }
        precondition(!routes.contains { $0.method == method && $0.segments == segments }, "duplicate route \(method) \(template)")
        routes.append(Route(method: method, template: template, index: routes.count, segments: segments, handler: handler))
    }

    public func match(method: String, path: String) -> Match {
        let bytes = Array(path.utf8)
        guard bytes.first == UInt8(ascii: "/") else { return .notFound }
        let parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        // "/" is one empty segment after the leading slash; a trailing slash is a different path, as in FastAPI.
        let pathSegments = parts.count == 1 && parts.first?.isEmpty == true ? [] : Array(parts)
        var allowed: [HTTPMethod] = []
        for route in routes {
            guard let parameters = Self.bind(route.segments, to: pathSegments) else { continue }
            if route.method.rawValue == method { return .found(route, parameters: parameters) }
            if !allowed.contains(route.method) { allowed.append(route.method) }  // GET /users/me and GET /users/{user_id}
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed)
    }

    private static func bind(_ segments: [Segment], to path: [ArraySlice<UInt8>]) -> [String: String]? {
        guard segments.count == path.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let bytes): if !bytes.elementsEqual(part) { return nil }
            case .parameter(let name):
                if part.isEmpty { return nil }
                parameters[name] = String(decoding: part, as: UTF8.self)
            }
        }
        return parameters
    }
}
