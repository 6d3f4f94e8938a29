import HTTP
/// The http-level nginx `map`s that come from the route table (`user-service routes --nginx`; `scripts/render-nginx`
/// writes them into `conf.d/user-service.conf`), so adding a route can never leave nginx behind. Each map is keyed on
/// `"$request_method $user_service_path"` (the path below the mount point) and lists anchored regexes in table
/// order, the order in which the router picks the first route that matches:
///
/// - `$user_service_workers`: `main` or `password` (which socket serves the request);
/// - `$user_service_rate_group`: `general` or `strict` (which rate-limit zone counts it);
/// - `$user_service_private_path`: `1` when only `PRIVATE_ALLOW` may call it — for every method of the path, so an
///   undeclared method on a private path is refused by nginx too;
/// - `$user_service_cache_control`: `no-store` or empty.
///
/// A route with the default value is listed only where it shadows a later route that has another value, so the
/// maps stay short and still agree with the router — except in the private map, which fails closed: it lists only
/// private paths, so a public route of one method can never unmask a private path for another method.
public enum NginxRouteMaps {
    public static func render() -> String { render(Routes.table) }

    static func render(_ routes: [Route]) -> String {
        let header = """
            # Rendered from the route table by `user-service routes --nginx` (\(ServiceVersion.name) \(ServiceVersion.version)).
            # Keyed on "METHOD path-below-the-mount-point"; do not edit: re-render with scripts/render-nginx.

            """
        return header + [
            map("user_service_workers", routes, default: "main") { $0.workers.rawValue },
            map("user_service_rate_group", routes, default: "general") { $0.rateGroup.rawValue },
            map("user_service_private_path", routes, default: "0", anyMethod: true) { $0.isPrivate ? "1" : "0" },
            map("user_service_cache_control", routes, default: "\"\"") { $0.noStore ? "no-store" : "\"\"" },
        ].joined(separator: "\n")
    }

    /// One `map` block: the routes whose value differs from the default, and those that shadow one of them.
    static func map(_ variable: String, _ routes: [Route], default defaultValue: String, anyMethod: Bool = false,
                    value: (Route) -> String) -> String {
        var lines = ["map \"$request_method $user_service_path\" $\(variable) {", "    default \(defaultValue);"]
        var listed = Set<String>()
        for (index, route) in routes.enumerated() {
            let routeValue = value(route)
            let shadows = routes[(index + 1)...].contains { later in
                value(later) != defaultValue && (anyMethod || later.method == route.method) && overlap(route.path, later.path)
            }
            guard routeValue != defaultValue || (shadows && !anyMethod) else { continue }
            let key = "\"~^\(anyMethod ? "[^ ]+" : route.method.rawValue) \(pattern(route.path))$\""
            if listed.insert(key).inserted { lines.append("    \(key) \(routeValue);") }
        }
        return (lines + ["}", ""]).joined(separator: "\n")
    }

    /// The regex of a path template: `{name}` becomes one non-empty segment (`[^/]+`), as the router binds it, and
    /// every other character is literal (punctuation escaped).
    static func pattern(_ template: String) -> String {
        precondition(template.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" && $0 != "\"" },
                     "route path \(template) must be printable ASCII without spaces, quotes or backslashes")
        return "/" + segments(template).map { segment in
            if isParameter(segment) { return "[^/]+" }
            return segment.map { character in
                character.isLetter || character.isNumber || character == "_" || character == "-" ? String(character) : "\\\(character)"
            }.joined()
        }.joined(separator: "/")
    }

    /// Whether some path matches both templates (the same number of segments, and the literals agree).
    static func overlap(_ a: String, _ b: String) -> Bool {
        let (left, right) = (segments(a), segments(b))
        return left.count == right.count && zip(left, right).allSatisfy { isParameter($0) || isParameter($1) || $0 == $1 }
    }

    private static func segments(_ template: String) -> [Substring] { template.split(separator: "/") }

    private static func isParameter(_ segment: Substring) -> Bool { segment.hasPrefix("{") && segment.hasSuffix("}") }
}
