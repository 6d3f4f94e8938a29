import HTTP
/// The http-level nginx `map`s that come from the route table (`user-service routes --nginx`; `scripts/render-nginx`
/// writes them into `conf.d/user-service.conf`), so adding a route can never leave nginx behind. Each map is keyed on
/// `"$request_method $user_service_path"` (the path below the mount point), the private map on the path alone:
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
///
/// Every request evaluates every map, so they are cheap to evaluate: a route without parameters is an exact key
/// (nginx looks those up in a hash, before any regex, ignoring letter case) when no earlier route overlaps it and no
/// route with another value overlaps it in any letter case — so a key matched in another case gives the value the
/// router's route for that path has; the other routes are anchored regexes in table order (the router picks the
/// first route that matches), consecutive ones with the same value joined into one.
public enum NginxRouteMaps {
    public static func render() -> String { render(Routes.table) }

    static func render(_ routes: [Route]) -> String {
        let header = """
            # Rendered from the route table by `user-service routes --nginx` (\(ServiceVersion.name) \(ServiceVersion.version)).
            # Keyed on "METHOD path-below-the-mount-point" (the private map on the path); do not edit: re-render with scripts/render-nginx.

            """
        return header + [
            map("user_service_workers", routes, default: "main") { $0.workers.rawValue },
            map("user_service_rate_group", routes, default: "general") { $0.rateGroup.rawValue },
            map("user_service_private_path", routes, default: "0", anyMethod: true) { $0.isPrivate ? "1" : "0" },
            map("user_service_cache_control", routes, default: "\"\"") { $0.noStore ? "no-store" : "\"\"" },
        ].joined(separator: "\n")
    }

    /// The longest exact key that fits a bucket of nginx's default `map_hash_bucket_size` (64 bytes on x86-64: an
    /// 8-byte value pointer, a 2-byte length and the key, rounded up to 8, then 8 bytes ending the bucket); a longer
    /// one is written as a regex, so a site's nginx needs no setting of ours.
    static let maximumExactKeyBytes = 46

    /// One `map` block: the routes whose value differs from the default, and those that shadow one of them.
    static func map(_ variable: String, _ routes: [Route], default defaultValue: String, anyMethod: Bool = false,
                    value: (Route) -> String) -> String {
        let source = anyMethod ? "$user_service_path" : "$request_method $user_service_path"
        var exact: [String] = []
        var regexes: [(alternatives: [String], value: String)] = []
        var listed = Set<String>()
        for (index, route) in routes.enumerated() {
            let routeValue = value(route)
            let shadows = routes[(index + 1)...].contains { later in
                value(later) != defaultValue && overlaps(route, later, anyMethod)
            }
            guard routeValue != defaultValue || (shadows && !anyMethod) else { continue }
            let method = anyMethod ? "" : route.method.rawValue + " "
            let alternative = method + pattern(route.path)
            guard listed.insert(alternative).inserted else { continue }
            let shadowed = routes[..<index].contains { overlaps($0, route, anyMethod) }
            let caseVariantsDiffer = routes.contains { other in
                value(other) != routeValue && (anyMethod || other.method == route.method) && overlap(other.path, route.path, ignoringCase: true)
            }
            if !shadowed && !caseVariantsDiffer && !segments(route.path).contains(where: isParameter)
                && (method + route.path).utf8.count <= maximumExactKeyBytes {
                exact.append("    \"\(method)\(route.path)\" \(routeValue);")
                continue
            }
            if regexes.last?.value == routeValue {
                regexes[regexes.count - 1].alternatives.append(alternative)
            } else {
                regexes.append(([alternative], routeValue))
            }
        }
        let regexLines = regexes.map { run in
            let body = run.alternatives.count == 1 ? run.alternatives[0] : "(?:" + run.alternatives.joined(separator: "|") + ")"
            return "    \"~^\(body)$\" \(run.value);"
        }
        return (["map \"\(source)\" $\(variable) {", "    default \(defaultValue);"] + exact + regexLines + ["}", ""])
            .joined(separator: "\n")
    }

    /// Whether some request matches both routes: the same method (any, for the private map) and overlapping paths.
    private static func overlaps(_ earlier: Route, _ later: Route, _ anyMethod: Bool) -> Bool {
        (anyMethod || earlier.method == later.method) && overlap(earlier.path, later.path)
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
    static func overlap(_ a: String, _ b: String, ignoringCase: Bool = false) -> Bool {
        let (left, right) = (segments(a), segments(b))
        return left.count == right.count && zip(left, right).allSatisfy { l, r in
            isParameter(l) || isParameter(r) || (ignoringCase ? l.lowercased() == r.lowercased() : l == r)
        }
    }

    private static func segments(_ template: String) -> [Substring] { template.split(separator: "/") }

    private static func isParameter(_ segment: Substring) -> Bool { segment.hasPrefix("{") && segment.hasSuffix("}") }
}
