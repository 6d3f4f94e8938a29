import HTTP
import Testing
@testable import UserService

/// The regexes `user-service routes --nginx` writes; what nginx does with them is checked end to end (test_nginx.py).
@Suite struct NginxRouteMapsTests {
    func route(_ method: HTTPMethod, _ path: String, _ options: Route.Options = Route.Options()) -> Route {
        Route(method, path, "test", tag: .system, options) { $0.system.root }
    }

    @Test func placeholdersBecomeOneSegmentAndPunctuationIsEscaped() {
        #expect(NginxRouteMaps.pattern("/") == "/")
        #expect(NginxRouteMaps.pattern("/openapi.json") == "/openapi\\.json")
        #expect(NginxRouteMaps.pattern("/api/v1/auth/sessions/{session_id}") == "/api/v1/auth/sessions/[^/]+")
        #expect(NginxRouteMaps.pattern("/a+b/{x}/c(d)") == "/a\\+b/[^/]+/c\\(d\\)")
    }

    @Test func keysAreAnchoredMethodAndPath() {
        let text = NginxRouteMaps.render([route(.get, "/users/me"), route(.delete, "/users/me", .init(workers: .password, rateGroup: .strict))])
        #expect(text.contains("    \"~^DELETE /users/me$\" password;"))
        #expect(!text.contains("\"~^GET /users/me$\""))  // the default (main) is not listed
    }

    @Test func aDefaultRouteIsListedWhereItShadowsALaterOne() {
        // The router picks the first route that matches: GET /users/me is served by /users/{id}'s handler, so
        // nginx must not send it to the password workers either.
        let routes = [route(.get, "/users/{id}"), route(.get, "/users/me", .init(workers: .password, rateGroup: .strict)), route(.get, "/other")]
        let workers = NginxRouteMaps.map("w", routes, default: "main") { $0.workers.rawValue }
        #expect(workers == """
            map "$request_method $user_service_path" $w {
                default main;
                "~^GET /users/[^/]+$" main;
                "~^GET /users/me$" password;
            }

            """)
    }

    @Test func privatePathsAreRefusedForEveryMethod() {
        let text = NginxRouteMaps.render([route(.get, "/metrics", .init(isPrivate: true)), route(.post, "/metrics", .init(isPrivate: true))])
        #expect(text.split(separator: "\n").filter { $0 == "    \"~^[^ ]+ /metrics$\" 1;" }.count == 1)  // listed once
    }

    /// The private map fails closed: a public route that the router would pick first, for one method, must not
    /// make nginx treat the private path as public for another method.
    @Test func thePrivateMapListsOnlyPrivatePaths() {
        let routes = [route(.get, "/x/{id}"), route(.post, "/x/me", .init(isPrivate: true))]
        let text = NginxRouteMaps.map("p", routes, default: "0", anyMethod: true) { $0.isPrivate ? "1" : "0" }
        #expect(text == """
            map "$request_method $user_service_path" $p {
                default 0;
                "~^[^ ]+ /x/me$" 1;
            }

            """)
    }

    @Test func theTableRendersAndListsEveryRoute() {
        #expect(NginxRouteMaps.render().contains("$user_service_workers"))
        #expect(RouteList.json().ranges(of: "\"method\"").count == Routes.table.count)
    }
}
