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

    enum Segment: Equatable {
        case literal(String)
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
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
        precondition(!routes.contains { $0.method == method && $0.segments == segments }, "duplicate route \(method) \(template)")
        routes.append(Route(method: method, template: template, index: routes.count, segments: segments, handler: handler))
    }

    public func match(method: String, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        // "/" is one empty segment after the leading slash; a trailing slash is a different path, as in FastAPI.
        let pathSegments = parts.count == 1 && parts.first == "" ? [] : Array(parts)
        var allowed: [HTTPMethod] = []
        for route in routes {
            guard let parameters = Self.bind(route.segments, to: pathSegments) else { continue }
            if route.method.rawValue == method { return .found(route, parameters: parameters) }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed)
    }

    private static func bind(_ segments: [Segment], to path: [Substring]) -> [String: String]? {
        guard segments.count == path.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let text): if text != part { return nil }
            case .parameter(let name):
                if part.isEmpty { return nil }
                parameters[name] = String(part)
            }
        }
        return parameters
    }
}
