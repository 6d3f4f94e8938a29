public import HTTP
public import Metrics

/// What the pool needs from the application it serves. The executable fills it in, so the pool runs any
/// responder and imports no application.
public struct ServedApplication {
    /// Named in the master's first log line.
    public var version: String
    /// Reads and checks the whole configuration, with `inherited` (the master's environment) as its base: at
    /// start, and again on each reload. Throws to refuse it; the error's description is the line logged.
    public var configure: (_ inherited: [String: String]) throws -> PoolConfiguration
    /// How the application lays out the pool's shared counters for `processCount` worker processes.
    public var metricsShape: (_ processCount: Int) -> MetricsShape
    /// Builds a worker's responder from the worker's environment, the pool's shared counters and the metrics
    /// options the master passed. Throws to stop the worker; the error's description is logged.
    public var makeResponder: (_ environment: [String: String], _ counters: SharedCounters, _ metrics: WorkerMetrics) throws -> any HTTPResponder

    public init(version: String,
                configure: @escaping (_ inherited: [String: String]) throws -> PoolConfiguration,
                metricsShape: @escaping (_ processCount: Int) -> MetricsShape,
                makeResponder: @escaping (_ environment: [String: String], _ counters: SharedCounters, _ metrics: WorkerMetrics) throws -> any HTTPResponder) {
        self.version = version
        self.configure = configure
        self.metricsShape = metricsShape
        self.makeResponder = makeResponder
    }
}

/// A configuration the application accepted: the environment workers get, and the pool's own settings.
public struct PoolConfiguration: Sendable {
    public var environment: [String: String]
    public var workers: Int
    /// Workers on the password socket, when the pool has one.
    public var passwordWorkers: Int
    public var drainTimeoutSeconds: Int
    /// Lines logged once, at start.
    public var warnings: [String]

    public init(environment: [String: String], workers: Int, passwordWorkers: Int, drainTimeoutSeconds: Int, warnings: [String] = []) {
        self.environment = environment
        self.workers = workers
        self.passwordWorkers = passwordWorkers
        self.drainTimeoutSeconds = drainTimeoutSeconds
        self.warnings = warnings
    }
}

/// The application's part of the shared counters: how many routes its rows label, and how many counters the
/// whole mapping holds.
public struct MetricsShape: Sendable, Equatable {
    public var routeCount: Int
    public var slotCount: Int

    public init(routeCount: Int, slotCount: Int) {
        self.routeCount = routeCount
        self.slotCount = slotCount
    }
}
