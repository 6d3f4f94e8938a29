public import UserService

/// What the master tells a worker about the shared counters: the layout it made them with, and the worker's own
/// in-flight slot. Passed as options of `user-service worker`, written and read here only.
public struct WorkerMetrics: Sendable, Equatable {
    public let layout: MetricsLayout
    /// This worker's in-flight index, `0 ..< layout.pool.processCount`.
    public let inFlightIndex: Int

    public static let options: Set<String> = ["--metrics-routes", "--metrics-processes", "--in-flight-slot"]

    init(layout: MetricsLayout, inFlightIndex: Int) {
        self.layout = layout
        self.inFlightIndex = inFlightIndex
    }

    /// Reads the options `arguments` wrote; nil when one is missing or out of range.
    public init?(options: [String: String]) {
        guard let routes = options["--metrics-routes"].flatMap({ Int($0) }), routes >= 0,
              let processes = options["--metrics-processes"].flatMap({ Int($0) }), processes > 0,
              let index = options["--in-flight-slot"].flatMap({ Int($0) }), (0..<processes).contains(index)
        else { return nil }
        self.init(layout: MetricsLayout(routeCount: routes, processCount: processes), inFlightIndex: index)
    }

    var arguments: [String] {
        ["--metrics-routes", String(layout.routeCount), "--metrics-processes", String(layout.pool.processCount),
         "--in-flight-slot", String(inFlightIndex)]
    }

    var inFlightSlot: Int { layout.pool.inFlight(inFlightIndex) }
}
