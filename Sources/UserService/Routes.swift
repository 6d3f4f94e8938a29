/// The whole API on one screen. Each controller's file holds its handlers; its SQL sits in the matching repository.
func buildRouter(_ services: Services) -> Router {
    var router = Router()
    let system = SystemController(services)
    router.add(.get, "/", system.root)
    router.add(.get, "/health", system.health)
    router.add(.get, "/metrics", system.metrics)
    router.add(.get, "/db/status", system.databaseStatus)

    let auth = AuthController(services)
    router.add(.post, "/api/v1/auth/register", auth.register)
    router.add(.post, "/api/v1/auth/login", auth.login)
    router.add(.post, "/api/v1/auth/refresh", auth.refresh)
    router.add(.post, "/api/v1/auth/logout", auth.logout)
    router.add(.post, "/api/v1/auth/logout-all", auth.logoutAll)
    router.add(.get, "/api/v1/auth/me", auth.me)
    router.add(.post, "/api/v1/auth/change-password", auth.changePassword)
    router.add(.get, "/api/v1/auth/sessions", auth.listSessions)
    router.add(.delete, "/api/v1/auth/sessions/{session_id}", auth.revokeSession)
    router.add(.get, "/api/v1/auth/events", auth.listEvents)
    return router
}
