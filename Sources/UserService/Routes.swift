import HTTP
/// The whole API, one entry per route, in table order (the order of the metrics rows). Each entry holds every
/// fact about its route: method, path, summary and tag, who may call it (a handler taking a `Caller` needs a live
/// session's token, checked before it runs), privacy, workers, rate-limit group, caching, status, input and
/// answer types (from the handler's signature) and the errors it can answer. The router, the OpenAPI document,
/// the rendered nginx maps (`user-service routes --nginx`) and the metrics read it. Handlers are in
/// `Controllers/`, bodies and answers in `Models/`, SQL in `Repositories/`.
enum Routes {
    static let table: [Route] = [
        Route(.get, "/", "Service information", tag: .system, .init(usesDatabase: false)) { $0.system.root },
        Route(.get, "/health", "Health of the service and its database", tag: .system,
              .init(errors: [ErrorResponse(.serviceUnavailable, Unhealthy.self)])) { $0.system.health },
        Route(.get, "/metrics", "Prometheus metrics of the whole pool", tag: .system,
              .init(isPrivate: true, usesDatabase: false)) { $0.system.metrics },
        Route(.get, "/db/status", "Database connection and migrations", tag: .system,
              .init(isPrivate: true, errors: [ErrorResponse(.serviceUnavailable, DatabaseStatusUnknown.self),
                                               ErrorResponse(.internalServerError, DatabaseStatusUnknown.self)])) { $0.system.databaseStatus },
        Route(.get, "/db/directory/plans", "The plan of a directory search's statement (EXPLAIN, not run)", tag: .system,
              .init(isPrivate: true)) { $0.directory.plans },

        Route(.post, "/api/v1/auth/register", "Create an account", tag: .auth,
              .init(status: .created, workers: .password, rateGroup: .strict, errors: [.conflict])) { $0.auth.register },
        Route(.post, "/api/v1/auth/login", "Log in with an email or username and a password", tag: .auth,
              .init(workers: .password, rateGroup: .strict, errors: [.unauthorized, .forbidden, .tooManyRequests])) { $0.auth.login },
        Route(.post, "/api/v1/auth/refresh", "Exchange a refresh token for a new pair", tag: .auth,
              .init(errors: [.unauthorized])) { $0.auth.refresh },
        Route(.post, "/api/v1/auth/logout", "Revoke this session", tag: .auth) { $0.auth.logout },
        Route(.post, "/api/v1/auth/logout-all", "Revoke every session of the account", tag: .auth) { $0.auth.logoutAll },
        Route(.get, "/api/v1/auth/me", "The signed-in user", tag: .auth) { $0.auth.me },
        Route(.post, "/api/v1/auth/change-password", "Change the password; other sessions are revoked", tag: .auth,
              .init(workers: .password, rateGroup: .strict, errors: [.badRequest, .tooManyRequests])) { $0.auth.changePassword },
        // The mail flows: each link is mailed through the outbox (`Mail/`), and its token works once.
        Route(.post, "/api/v1/auth/password-reset-request", "Mail a password-reset link (the same answer for any address)", tag: .auth,
              .init(status: .accepted, rateGroup: .strict)) { $0.passwordReset.request },
        Route(.post, "/api/v1/auth/password-reset-confirm", "Set a new password with a reset link's token; every session is revoked",
              tag: .auth, .init(workers: .password, rateGroup: .strict, errors: [.badRequest])) { $0.passwordReset.confirm },
        Route(.post, "/api/v1/auth/verify-email-request", "Mail a fresh verification link to the account's address", tag: .auth,
              .init(status: .accepted, rateGroup: .strict, errors: [.conflict, .tooManyRequests])) { $0.email.request },
        Route(.post, "/api/v1/auth/verify-email", "Verify the address (or confirm a new one) with a verification link's token",
              tag: .auth, .init(rateGroup: .strict, errors: [.badRequest, .conflict])) { $0.email.verify },
        Route(.post, "/api/v1/auth/change-email", "Ask to change the address: a link to the new one, a notice to the old one",
              tag: .auth, .init(status: .accepted, workers: .password, rateGroup: .strict,
                                errors: [.badRequest, .conflict, .tooManyRequests])) { $0.email.change },
        Route(.get, "/api/v1/auth/sessions", "The account's live sessions", tag: .auth) { $0.auth.listSessions },
        Route(.delete, "/api/v1/auth/sessions/{session_id}", "Revoke one session", tag: .auth,
              .init(errors: [.notFound])) { $0.auth.revokeSession },
        Route(.get, "/api/v1/auth/events", "The account's security events, newest first", tag: .auth) { $0.auth.listEvents },

        Route(.get, "/api/v1/users/me", "The signed-in user's profile", tag: .users) { $0.users.me },
        Route(.put, "/api/v1/users/me", "Update the profile: only the fields sent change, null clears", tag: .users,
              .init(errors: [.conflict])) { $0.users.update },
        Route(.delete, "/api/v1/users/me", "Delete the account and everything that names it", tag: .users,
              .init(workers: .password, rateGroup: .strict, errors: [.badRequest, .conflict, .tooManyRequests])) { $0.users.delete },
        Route(.get, "/api/v1/users/me/stats", "Account age, logins, sessions, profile completeness", tag: .users) { $0.users.stats },
        Route(.get, "/api/v1/users/me/export", "Everything held about the account, as one JSON attachment", tag: .users,
              .init(rateGroup: .strict)) { $0.users.export },

        Route(.get, "/api/v1/users/me/profile", "The caller's extended profile (the defaults until one is saved)", tag: .users) { $0.profile.show },
        Route(.put, "/api/v1/users/me/profile", "Change the extended profile: fields not sent are kept, null clears one",
              tag: .users) { $0.profile.update },
        Route(.get, "/api/v1/users/me/preferences", "The caller's job-matching preferences (the defaults until saved)",
              tag: .users) { $0.preferences.show },
        Route(.put, "/api/v1/users/me/preferences", "Change the job-matching preferences: fields not sent are kept, null clears one",
              tag: .users) { $0.preferences.update },

        // Premium: the upgrade is the one call a payment provider's webhook would make too (payment is out of scope).
        Route(.post, "/api/v1/users/me/upgrade", "Become premium, or extend it by the plan's month or year",
              tag: .users) { $0.users.upgrade },
        Route(.post, "/api/v1/users/me/downgrade", "End premium at once", tag: .users,
              .init(errors: [.conflict])) { $0.users.downgrade },

        // Administration: administrators only (`access: .admin`, checked against the caller's row loaded with the
        // session). Each action records a security event naming the administrator; the last active administrator
        // cannot be deactivated, demoted or deleted (409).
        Route(.get, "/api/v1/admin/users", "List users: filters (active, verified, premium, admin, created between, text) and pages",
              tag: .admin, .init(access: .admin)) { $0.admin.list },
        Route(.get, "/api/v1/admin/users/{user_id}", "One user with the profile, live sessions and recent security events",
              tag: .admin, Self.admin()) { $0.admin.show },
        Route(.post, "/api/v1/admin/users/{user_id}/activate", "Activate the account", tag: .admin, Self.admin()) { $0.admin.activate },
        Route(.post, "/api/v1/admin/users/{user_id}/deactivate", "Deactivate the account; every session is revoked at once",
              tag: .admin, Self.admin(.conflict)) { $0.admin.deactivate },
        Route(.post, "/api/v1/admin/users/{user_id}/verify", "Mark the account verified", tag: .admin, Self.admin()) { $0.admin.verify },
        Route(.post, "/api/v1/admin/users/{user_id}/unverify", "Mark the account unverified", tag: .admin, Self.admin()) { $0.admin.unverify },
        Route(.put, "/api/v1/admin/users/{user_id}/premium", "Grant premium: a plan, for a number of days or until a date",
              tag: .admin, Self.admin()) { $0.admin.grantPremium },
        Route(.delete, "/api/v1/admin/users/{user_id}/premium", "End premium at once", tag: .admin, Self.admin(.conflict)) { $0.admin.endPremium },
        Route(.post, "/api/v1/admin/users/{user_id}/revoke-sessions", "Revoke every session of the account",
              tag: .admin, Self.admin()) { $0.admin.revokeSessions },
        Route(.post, "/api/v1/admin/users/{user_id}/promote", "Make the user an administrator", tag: .admin, Self.admin()) { $0.admin.promote },
        Route(.post, "/api/v1/admin/users/{user_id}/demote", "Take the administrator role away", tag: .admin,
              Self.admin(.conflict)) { $0.admin.demote },
        Route(.delete, "/api/v1/admin/users/{user_id}", "Delete the account and everything that names it", tag: .admin,
              Self.admin(.conflict)) { $0.admin.delete },

        // The directory (premium only), after every /api/v1/users/me... route: the router takes the first match in
        // table order, so `me` is never read as a {user_id}.
        Route(.get, "/api/v1/users/search", "Search the directory: ranked by relevance, filters combined (premium)", tag: .users,
              .init(errors: [.tooManyRequests], access: .premium)) { $0.directory.search },
        Route(.get, "/api/v1/users/{user_id}", "Another user's public view (premium)", tag: .users,
              .init(errors: [.notFound, .tooManyRequests], access: .premium)) { $0.directory.user },
        Route(.get, "/api/v1/users/{user_id}/profile", "Another user's public profile (premium)", tag: .users,
              .init(errors: [.notFound, .tooManyRequests], access: .premium)) { $0.directory.profile },
        Route(.get, "/api/v1/users/{user_id}/preferences", "Another user's public job-matching preferences (premium)", tag: .users,
              .init(errors: [.notFound, .tooManyRequests], access: .premium)) { $0.directory.preferences },

        // The keys that verify access tokens, for sibling services (public, no database). The key set is cacheable;
        // discovery is not, as it may be built from the client's Host.
        Route(.get, "/.well-known/jwks.json", "The public keys that verify access tokens (JWK Set)", tag: .keys,
              .init(usesDatabase: false)) { $0.keys.jwks },
        Route(.get, "/.well-known/openid-configuration", "Where verifiers find the keys: issuer, jwks_uri, algorithms",
              tag: .keys, .init(noStore: true, usesDatabase: false)) { $0.keys.openIDConfiguration },

        // The API's description and its pages (not listed in the description itself, as FastAPI does).
        Route(.get, "/openapi.json", "The OpenAPI document", tag: .docs, .init(usesDatabase: false)) { $0.docs.openAPI },
        Route(.get, "/docs", "Swagger UI", tag: .docs, .init(usesDatabase: false)) { $0.docs.swaggerUI },
        Route(.get, "/redoc", "ReDoc", tag: .docs, .init(usesDatabase: false)) { $0.docs.redoc },
        Route(.get, "/docs/assets/{version}/{name}", "The pages' scripts and styles", tag: .docs,
              .init(usesDatabase: false)) { $0.docs.asset },
    ]

    /// An administrator's route: a bad `{user_id}` is a 422, an unknown one a 404, and `errors` besides.
    static func admin(_ errors: ErrorResponse...) -> Route.Options {
        Route.Options(errors: [.validation, .notFound] + errors, access: .admin)
    }

    /// The handlers' owners, built once per worker.
    struct Controllers {
        let system: SystemController
        let auth: AuthController
        let users: UserController
        let docs: DocsController
        let profile: ProfileController
        let preferences: PreferencesController
        let admin: AdminController
        let keys: KeysController
        let passwordReset: PasswordResetController
        let email: EmailController

        let directory: DirectoryController
        let authenticator: Authenticator
        let passwordRules: PasswordRules
    }
}

func buildRouter(_ services: Services) -> Router {
    let controllers = Routes.Controllers(system: SystemController(services), auth: AuthController(services: services),
                                         users: UserController(services: services), docs: DocsController(services),
                                         profile: ProfileController(profiles: services.profiles),
                                         preferences: PreferencesController(preferences: services.preferences),
                                         admin: AdminController(services: services),
                                         keys: KeysController(services),
                                         passwordReset: PasswordResetController(services: services),
                                         email: EmailController(services: services),

                                         directory: DirectoryController(directory: services.directory, limit: services.directoryLimit),
                                         authenticator: services.authenticator, passwordRules: services.passwordRules)
    var router = Router()
    for route in Routes.table {
        router.add(route.method, route.path) { context in try route.handle(controllers, context) }
    }
    return router
}
