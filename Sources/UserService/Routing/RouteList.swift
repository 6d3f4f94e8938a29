import HTTP
/// `user-service routes --json`: the route table's edge-facing attributes, one object per route in table order —
/// what nginx is rendered from (`NginxRouteMaps`), for tests and tools that check the edge against the table.
public enum RouteList {
    public static func json() -> String { json(Routes.table) }

    static func json(_ routes: [Route]) -> String {
        JSONValue.array(routes.map { route in
            .object([
                ("method", .string(route.method.rawValue)),
                ("path", .string(route.path)),
                ("access", .string(route.access.rawValue)),
                ("private", .bool(route.isPrivate)),
                ("workers", .string(route.workers.rawValue)),
                ("rate_group", .string(route.rateGroup.rawValue)),
                ("no_store", .bool(route.noStore)),
            ])
        }).text
    }
}
