import HTTP
public import Metrics

/// Where each counter lies in the pool's shared mapping, computed from the route table, the pool's size and
/// the lists below, so nothing is sized by hand and no route can share another's row.
///
/// After the pool's slots (`PoolSlots`): first the session cache's generation numbers (`SessionGenerations`), which
/// are not metrics but share the mapping the master makes for every worker; they come before anything whose size
/// depends on the binary, so the workers of a binary started by a reload bump the same numbers as the old ones
/// still draining. Then per label row (each route, then one "unmatched" row per method) a count per status, then
/// per row a duration histogram; then database errors, password hashes and security events by type; session checks
/// by what answered them (the cache, the database).
public struct MetricsLayout: Sendable, Equatable {
    public let pool: PoolSlots
    /// How many routes the rows label: the route table of the master that made the mapping.
    public let routeCount: Int

    static let statuses = [200, 201, 204, 307, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 502, 503]
    static let statusSlots = statuses.count + 1  // the statuses above, then "other"
    static let bucketBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    static let histogramSlots = bucketBounds.count + 3  // buckets, +Inf, count, sum in microseconds
    static let unmatchedMethods = HTTPMethod.allCases.map(\.rawValue) + ["OTHER"]

    public init(routeCount: Int, processCount: Int) {
        self.routeCount = routeCount
        pool = PoolSlots(processCount: processCount)
    }

    /// The layout for this binary's route table.
    public init(processCount: Int) { self.init(routeCount: Routes.table.count, processCount: processCount) }

    var rowCount: Int { routeCount + Self.unmatchedMethods.count }
    /// Right after the pool's own slots, whatever this binary's route table and lists.
    var sessionGenerationBase: Int { pool.end }
    var requestBase: Int { sessionGenerationBase + SessionGenerations.bucketCount }
    var histogramBase: Int { requestBase + rowCount * Self.statusSlots }
    var databaseErrorSlot: Int { histogramBase + rowCount * Self.histogramSlots }
    var passwordHashSlot: Int { databaseErrorSlot + 1 }
    var securityEventBase: Int { passwordHashSlot + 1 }
    /// Session checks answered by the worker's cache, then by a query.
    var sessionCheckBase: Int { securityEventBase + SecurityEvent.Kind.allCases.count }
    /// The size of the whole mapping.
    public var slotCount: Int { sessionCheckBase + 2 }

    /// The label row of a request: its route's index, or the "unmatched" row of its method.
    func row(routeIndex: Int?, method: String) -> Int {
        if let routeIndex { return routeIndex }
        return routeCount + (Self.unmatchedMethods.firstIndex(of: method) ?? Self.unmatchedMethods.count - 1)
    }

    /// Refuses a route table with more routes than this layout labels, or counters smaller than it: a worker of
    /// a newer binary started by a reload meets the mapping its master made.
    func check(routeCount routes: Int, counters: SharedCounters) throws(Mismatch) {
        guard routes <= routeCount else { throw .routes(routes, labelled: routeCount) }
        guard slotCount <= counters.slotCount else { throw .slots(needed: slotCount, mapped: counters.slotCount) }
    }

    public enum Mismatch: Error, Equatable, CustomStringConvertible {
        case routes(Int, labelled: Int)
        case slots(needed: Int, mapped: Int)

        public var description: String {
            switch self {
            case .routes(let routes, let labelled):
                return "metrics: the route table has \(routes) routes but the pool's metrics label \(labelled):"
                    + " restart the service (a reload cannot resize the metrics)"
            case .slots(let needed, let mapped):
                return "metrics: \(needed) counters needed but the pool mapped \(mapped):"
                    + " restart the service (a reload cannot resize the metrics)"
            }
        }
    }
}
