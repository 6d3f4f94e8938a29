import HTTP
import Testing
@testable import UserService

/// The keys `user-service routes --nginx` writes; what nginx does with them is checked end to end (test_nginx_routes.py).
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

    @Test func aPathWithoutParametersIsAnExactKeyOfMethodAndPath() {
        let text = NginxRouteMaps.render([route(.get, "/users/me"), route(.delete, "/users/me", .init(workers: .password, rateGroup: .strict))])
        #expect(text.contains("    \"DELETE /users/me\" password;"))
        #expect(!text.contains("\"GET /users/me\""))  // the default (main) is not listed
    }

    @Test func parameterisedRoutesAreAnchoredRegexesAndNeighboursWithOneValueAreJoined() {
        let routes = [route(.delete, "/s/{id}", .init(noStore: true)), route(.get, "/u/{id}/x", .init(noStore: true)),
                      route(.get, "/plain", .init(noStore: true)), route(.get, "/v/{id}", .init(noStore: true))]
        let text = NginxRouteMaps.map("c", routes, default: "\"\"") { $0.noStore ? "no-store" : "\"\"" }
        #expect(text == """
            map "$request_method $user_service_path" $c {
                default "";
                "GET /plain" no-store;
                "~^(?:DELETE /s/[^/]+|GET /u/[^/]+/x|GET /v/[^/]+)$" no-store;
            }

            """)
    }

    /// nginx matches exact keys in any letter case: `GET /x/ME` must not take `GET /x/me`'s value when the router
    /// serves it as `/x/{id}`, which has another one.
    @Test func aKeyIsExactOnlyWhenNoCaseVariantBelongsToARouteWithAnotherValue() {
        let routes = [route(.get, "/x/me"), route(.get, "/x/{id}", .init(workers: .password, rateGroup: .strict)),
                      route(.post, "/y/login", .init(workers: .password, rateGroup: .strict)), route(.post, "/y/{other}")]
        let text = NginxRouteMaps.map("g", routes, default: "general") { $0.rateGroup.rawValue }
        #expect(text == """
            map "$request_method $user_service_path" $g {
                default general;
                "~^GET /x/me$" general;
                "~^(?:GET /x/[^/]+|POST /y/login)$" strict;
            }

            """)
    }

    @Test func aKeyLongerThanNginxsDefaultBucketHoldsIsARegex() {
        let long = "/" + String(repeating: "a", count: NginxRouteMaps.maximumExactKeyBytes - 5)  // "POST " + long: one byte over
        let text = NginxRouteMaps.render([route(.post, String(long.dropLast()), .init(workers: .password, rateGroup: .strict)),
                                          route(.post, long, .init(workers: .password, rateGroup: .strict))])
        #expect(text.contains("    \"POST \(long.dropLast())\" password;"))
        #expect(text.contains("    \"~^POST \(long)$\" password;"))
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
        let text = NginxRouteMaps.render([route(.get, "/metrics", .init(isPrivate: true)), route(.post, "/metrics", .init(isPrivate: true)),
                                          route(.get, "/db/{name}", .init(isPrivate: true))])
        #expect(text.contains("map \"$user_service_path\" $user_service_private_path {"))
        #expect(text.split(separator: "\n").filter { $0 == "    \"/metrics\" 1;" }.count == 1)  // listed once
        #expect(text.contains("    \"~^/db/[^/]+$\" 1;"))
    }

    /// The private map fails closed: a public route that the router would pick first, for one method, must not
    /// make nginx treat the private path as public for another method.
    @Test func thePrivateMapListsOnlyPrivatePaths() {
        let routes = [route(.get, "/x/{id}"), route(.post, "/x/me", .init(isPrivate: true))]
        let text = NginxRouteMaps.map("p", routes, default: "0", anyMethod: true) { $0.isPrivate ? "1" : "0" }
        #expect(text == """
            map "$user_service_path" $p {
                default 0;
                "~^/x/me$" 1;
            }

            """)
    }

    @Test func theTableRendersAndListsEveryRoute() {
        #expect(NginxRouteMaps.render().contains("$user_service_workers"))
        #expect(RouteList.json().ranges(of: "\"method\"").count == Routes.table.count)
    }
}
