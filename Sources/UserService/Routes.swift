/// The whole API on one screen. Each controller's file holds its handlers; its SQL sits in the matching repository.
func buildRouter(_ services: Services) -> Router {
    var router = Router()
    let system = SystemController(services)
    router.add(.get, "/", system.root)
    router.add(.get, "/health", system.health)
    router.add(.get, "/metrics", system.metrics)
    router.add(.get, "/db/status", system.databaseStatus)
    return router
}
