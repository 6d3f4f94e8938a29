/// What a reload cannot change, compared with the configuration the pool started with. Turning the session cache on
/// or off needs a restart: during a reload the old workers drain beside the new ones, and a worker without the cache
/// does not move the shared generations when it revokes, so the new workers' caches would answer for a revoked
/// session until its notification arrives, breaking "the next request on this host".
public final class RestartOnlySettings {
    private var sessionCacheOn: Bool?

    public init() {}

    /// Called with the configuration at start (remembered), then with each reload's (refused if it differs).
    public func check(_ configuration: Configuration) throws(ConfigurationError) {
        let on = configuration.sessionCacheSeconds > 0
        guard let sessionCacheOn else {
            sessionCacheOn = on
            return
        }
        guard on == sessionCacheOn else {
            throw ConfigurationError(variable: "SESSION_CACHE_SECONDS", problem: "turns the session cache \(on ? "on" : "off"): "
                + "restart the service (a reload cannot turn the session cache on or off)")
        }
    }
}

@available(*, unavailable)
extension RestartOnlySettings: Sendable {}
