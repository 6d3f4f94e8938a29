import HTTP
import Metrics

/// The application's counters in the pool's shared mapping (placed by `MetricsLayout`), and their Prometheus
/// rendering.
public struct ServiceMetrics {
    let counters: SharedCounters
    let layout: MetricsLayout

    func recordRequest(row: Int, status: Int, durationNanoseconds: UInt64) {
        let statusIndex = MetricsLayout.statuses.firstIndex(of: status) ?? MetricsLayout.statusSlots - 1
        counters.add(layout.requestBase + row * MetricsLayout.statusSlots + statusIndex)
        let bounds = MetricsLayout.bucketBounds
        let seconds = Double(durationNanoseconds) / 1e9
        let bucket = bounds.firstIndex { seconds <= $0 } ?? bounds.count
        let histogram = layout.histogramBase + row * MetricsLayout.histogramSlots
        counters.add(histogram + bucket)
        counters.add(histogram + bounds.count + 1)
        counters.add(histogram + bounds.count + 2, durationNanoseconds / 1000)
    }

    func recordDatabaseError() { counters.add(layout.databaseErrorSlot) }

    /// One bcrypt computation: a hash, a verify, or the dummy verify for an unknown account.
    func recordPasswordHash() { counters.add(layout.passwordHashSlot) }

    func recordSecurityEvent(_ index: Int) { counters.add(layout.securityEventBase + index) }

    /// One session check, answered by the worker's cache or by a query.
    func recordSessionCheck(cached: Bool) { counters.add(layout.sessionCheckBase + (cached ? 0 : 1)) }

    /// The Prometheus text exposition format (version 0.0.4). `routes` are the router's, in table order.
    func render(routes: [Router.Route], securityEventTypes: [String]) -> String {
        func label(row: Int) -> (method: String, route: String) {
            row < routes.count ? (routes[row].method.rawValue, routes[row].template)
                : (MetricsLayout.unmatchedMethods[row - layout.routeCount], "unmatched")
        }
        let rows = Array(0..<routes.count) + Array(layout.routeCount..<layout.rowCount)
        let statuses = MetricsLayout.statuses
        let bounds = MetricsLayout.bucketBounds
        var out = ""
        out += "# HELP user_service_requests_total Requests answered, by route template, method and status.\n"
        out += "# TYPE user_service_requests_total counter\n"
        for row in rows {
            let (method, route) = label(row: row)
            for statusIndex in 0..<MetricsLayout.statusSlots {
                let value = counters.load(layout.requestBase + row * MetricsLayout.statusSlots + statusIndex)
                guard value > 0 else { continue }
                let status = statusIndex < statuses.count ? String(statuses[statusIndex]) : "other"
                out += "user_service_requests_total{route=\"\(route)\",method=\"\(method)\",status=\"\(status)\"} \(value)\n"
            }
        }
        out += "# HELP user_service_request_duration_seconds Time from request read to response written.\n"
        out += "# TYPE user_service_request_duration_seconds histogram\n"
        for row in rows {
            let histogram = layout.histogramBase + row * MetricsLayout.histogramSlots
            let count = counters.load(histogram + bounds.count + 1)
            guard count > 0 else { continue }
            let (method, route) = label(row: row)
            let labels = "route=\"\(route)\",method=\"\(method)\""
            var cumulative: UInt64 = 0
            for (index, bound) in bounds.enumerated() {
                cumulative += counters.load(histogram + index)
                out += "user_service_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "user_service_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(count)\n"
            out += "user_service_request_duration_seconds_sum{\(labels)} \(Double(counters.load(histogram + bounds.count + 2)) / 1e6)\n"
            out += "user_service_request_duration_seconds_count{\(labels)} \(count)\n"
        }
        // Each worker's own slot, zeroed by the master when the worker dies: the sum is what is in flight now.
        let inFlight = layout.pool.inFlightSlots.reduce(Int64(0)) { $0 &+ Int64(bitPattern: counters.load($1)) }
        out += "# HELP user_service_requests_in_flight Requests being answered now.\n"
        out += "# TYPE user_service_requests_in_flight gauge\nuser_service_requests_in_flight \(inFlight)\n"
        out += counter("user_service_worker_starts_total", "Worker processes started.", counters.load(PoolCounter.workerStarts.rawValue))
        out += counter("user_service_worker_restarts_total", "Workers started to replace one that died.", counters.load(PoolCounter.workerRestarts.rawValue))
        out += counter("user_service_reloads_total", "Configuration reloads completed.", counters.load(PoolCounter.reloads.rawValue))
        out += counter("user_service_database_errors_total", "Database calls that failed.", counters.load(layout.databaseErrorSlot))
        out += counter("user_service_password_hashes_total", "bcrypt computations: hashes, verifies and dummy verifies.",
                       counters.load(layout.passwordHashSlot))
        out += "# HELP user_service_session_checks_total Session checks of authenticated requests, by what answered them.\n"
        out += "# TYPE user_service_session_checks_total counter\n"
        out += "user_service_session_checks_total{answered_by=\"cache\"} \(counters.load(layout.sessionCheckBase))\n"
        out += "user_service_session_checks_total{answered_by=\"database\"} \(counters.load(layout.sessionCheckBase + 1))\n"
        if !securityEventTypes.isEmpty {
            out += "# HELP user_service_security_events_total Security events recorded, by type.\n"
            out += "# TYPE user_service_security_events_total counter\n"
            for (index, type) in securityEventTypes.enumerated() {
                out += "user_service_security_events_total{type=\"\(type)\"} \(counters.load(layout.securityEventBase + index))\n"
            }
        }
        return out
    }

    private func counter(_ name: String, _ help: String, _ value: UInt64) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
    }
}
