import Metrics

/// The application's counters in the pool's shared mapping, and their Prometheus rendering.
///
/// Layout after `PoolCounter.applicationBase`: per label row (each route, then one "unmatched" row per
/// method) a count per status, then per row a duration histogram; then database errors and security events.
public struct ServiceMetrics {
    static let statuses = [200, 201, 204, 307, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 502, 503]
    static let statusSlots = 17  // the statuses above, then "other"
    static let bucketBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    static let histogramSlots = bucketBounds.count + 3  // buckets, +Inf, count, sum in microseconds
    static let maximumRoutes = 96
    static let unmatchedMethods = HTTPMethod.allCases.map(\.rawValue) + ["OTHER"]
    static let rowCount = maximumRoutes + unmatchedMethods.count

    static let requestBase = PoolCounter.applicationBase
    static let histogramBase = requestBase + rowCount * statusSlots
    static let databaseErrorSlot = histogramBase + rowCount * histogramSlots
    static let securityEventBase = databaseErrorSlot + 1
    static let securityEventSlots = 32
    static let passwordHashSlot = securityEventBase + securityEventSlots

    let counters: SharedCounters

    init(counters: SharedCounters) {
        precondition(Self.passwordHashSlot < counters.slotCount)
        self.counters = counters
    }

    /// The label row of a request: its route's index, or the "unmatched" row of its method.
    static func row(routeIndex: Int?, method: String) -> Int {
        if let routeIndex { return routeIndex }
        return maximumRoutes + (unmatchedMethods.firstIndex(of: method) ?? unmatchedMethods.count - 1)
    }

    func recordRequest(row: Int, status: Int, durationNanoseconds: UInt64) {
        let statusIndex = Self.statuses.firstIndex(of: status) ?? Self.statusSlots - 1
        counters.add(Self.requestBase + row * Self.statusSlots + statusIndex)
        let seconds = Double(durationNanoseconds) / 1e9
        let bucket = Self.bucketBounds.firstIndex { seconds <= $0 } ?? Self.bucketBounds.count
        let histogram = Self.histogramBase + row * Self.histogramSlots
        counters.add(histogram + bucket)
        counters.add(histogram + Self.bucketBounds.count + 1)
        counters.add(histogram + Self.bucketBounds.count + 2, durationNanoseconds / 1000)
    }

    func recordDatabaseError() { counters.add(Self.databaseErrorSlot) }

    func recordSecurityEvent(_ index: Int) { counters.add(Self.securityEventBase + index) }

    /// One bcrypt computation (a hash or a verification).
    func recordPasswordHash() { counters.add(Self.passwordHashSlot) }

    /// The Prometheus text exposition format (version 0.0.4). `routes` are the router's, in table order.
    func render(routes: [Router.Route], securityEventTypes: [String]) -> String {
        func label(row: Int) -> (method: String, route: String) {
            row < routes.count ? (routes[row].method.rawValue, routes[row].template) : (Self.unmatchedMethods[row - Self.maximumRoutes], "unmatched")
        }
        let rows = Array(0..<routes.count) + Array(Self.maximumRoutes..<Self.rowCount)
        var out = ""
        out += "# HELP user_service_requests_total Requests answered, by route template, method and status.\n"
        out += "# TYPE user_service_requests_total counter\n"
        for row in rows {
            let (method, route) = label(row: row)
            for statusIndex in 0..<Self.statusSlots {
                let value = counters.load(Self.requestBase + row * Self.statusSlots + statusIndex)
                guard value > 0 else { continue }
                let status = statusIndex < Self.statuses.count ? String(Self.statuses[statusIndex]) : "other"
                out += "user_service_requests_total{route=\"\(route)\",method=\"\(method)\",status=\"\(status)\"} \(value)\n"
            }
        }
        out += "# HELP user_service_request_duration_seconds Time from request read to response written.\n"
        out += "# TYPE user_service_request_duration_seconds histogram\n"
        for row in rows {
            let histogram = Self.histogramBase + row * Self.histogramSlots
            let count = counters.load(histogram + Self.bucketBounds.count + 1)
            guard count > 0 else { continue }
            let (method, route) = label(row: row)
            let labels = "route=\"\(route)\",method=\"\(method)\""
            var cumulative: UInt64 = 0
            for (index, bound) in Self.bucketBounds.enumerated() {
                cumulative += counters.load(histogram + index)
                out += "user_service_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "user_service_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(count)\n"
            out += "user_service_request_duration_seconds_sum{\(labels)} \(Double(counters.load(histogram + Self.bucketBounds.count + 2)) / 1e6)\n"
            out += "user_service_request_duration_seconds_count{\(labels)} \(count)\n"
        }
        out += gauge("user_service_requests_in_flight", "Requests being answered now.", counters.load(PoolCounter.inFlightRequests.rawValue))
        out += counter("user_service_worker_starts_total", "Worker processes started.", counters.load(PoolCounter.workerStarts.rawValue))
        out += counter("user_service_worker_restarts_total", "Workers started to replace one that died.", counters.load(PoolCounter.workerRestarts.rawValue))
        out += counter("user_service_reloads_total", "Configuration reloads completed.", counters.load(PoolCounter.reloads.rawValue))
        out += counter("user_service_database_errors_total", "Database calls that failed.", counters.load(Self.databaseErrorSlot))
        out += counter("user_service_password_hashes_total", "bcrypt computations (hashes and verifications) run by the pool.",
                       counters.load(Self.passwordHashSlot))
        if !securityEventTypes.isEmpty {
            out += "# HELP user_service_security_events_total Security events recorded, by type.\n"
            out += "# TYPE user_service_security_events_total counter\n"
            for (index, type) in securityEventTypes.enumerated() {
                out += "user_service_security_events_total{type=\"\(type)\"} \(counters.load(Self.securityEventBase + index))\n"
            }
        }
        return out
    }

    private func counter(_ name: String, _ help: String, _ value: UInt64) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
    }

    private func gauge(_ name: String, _ help: String, _ value: UInt64) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(Int64(bitPattern: value))\n"
    }
}
