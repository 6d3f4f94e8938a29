import HTTP

/// The whole API on one screen, in table order (the order of the metrics rows). Each controller's file holds its
/// handlers; its SQL sits in the matching repository.
enum Routes {
    struct Controllers {
        let system: SystemController
        let auth: AuthController
    }

    static let table: [(method: HTTPMethod, template: String, handler: @Sendable (Controllers) -> RouteHandler)] = [
        (.get, "/", { $0.system.root }),
        (.get, "/health", { $0.system.health }),
        (.get, "/metrics", { $0.system.metrics }),
        (.get, "/db/status", { $0.system.databaseStatus }),

        (.post, "/api/v1/auth/register", { $0.auth.register }),
        (.post, "/api/v1/auth/login", { $0.auth.login }),
        (.post, "/api/v1/auth/refresh", { $0.auth.refresh }),
        (.post, "/api/v1/auth/logout", { $0.auth.logout }),
        (.post, "/api/v1/auth/logout-all", { $0.auth.logoutAll }),
        (.get, "/api/v1/auth/me", { $0.auth.me }),
        (.post, "/api/v1/auth/change-password", { $0.auth.changePassword }),
        (.get, "/api/v1/auth/sessions", { $0.auth.listSessions }),
        (.delete, "/api/v1/auth/sessions/{session_id}", { $0.auth.revokeSession }),
        (.get, "/api/v1/auth/events", { $0.auth.listEvents }),
    ]
}

func buildRouter(_ services: Services) -> Router {
    let controllers = Routes.Controllers(system: SystemController(services), auth: AuthController(services))
    var router = Router()
    for route in Routes.table { router.add(route.method, route.template, route.handler(controllers)) }
    return router
}
