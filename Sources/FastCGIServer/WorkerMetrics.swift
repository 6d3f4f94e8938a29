import Metrics

/// What the master tells a worker about the shared counters: how many routes their rows label and how many
/// processes they count, and the worker's own in-flight slot. Passed as options of `user-service worker`,
/// written and read here only.
public struct WorkerMetrics: Sendable, Equatable {
    public let routeCount: Int
    public let processCount: Int
    /// This worker's in-flight index, `0 ..< processCount`.
    public let inFlightIndex: Int

    public static let options: Set<String> = ["--metrics-routes", "--metrics-processes", "--in-flight-slot"]

    init(routeCount: Int, processCount: Int, inFlightIndex: Int) {
        self.routeCount = routeCount
        self.processCount = processCount
        self.inFlightIndex = inFlightIndex
    }

    /// Reads the options `arguments` wrote; nil when one is missing or out of range.
    public init?(options: [String: String]) {
        guard let routes = options["--metrics-routes"].flatMap({ Int($0) }), routes >= 0,
              let processes = options["--metrics-processes"].flatMap({ Int($0) }), processes > 0,
              let index = options["--in-flight-slot"].flatMap({ Int($0) }), (0..<processes).contains(index)
        else { return nil }
        self.init(routeCount: routes, processCount: processes, inFlightIndex: index)
    }

    var arguments: [String] {
        ["--metrics-routes", String(routeCount), "--metrics-processes", String(processCount), "--in-flight-slot", String(inFlightIndex)]
    }

    var pool: PoolSlots { PoolSlots(processCount: processCount) }

    var inFlightSlot: Int { pool.inFlight(inFlightIndex) }
}
