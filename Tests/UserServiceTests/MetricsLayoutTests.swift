import HTTP
import Metrics
import Testing
@testable import UserService

/// The counters' layout is computed from the route table and the pool's size; what it cannot label is refused.
@Suite struct MetricsLayoutTests {
    let configuration = try! Configuration.load(from: [
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/unreachable", "JWT_SECRET_KEY": String(repeating: "k", count: 32),
        "BCRYPT_ROUNDS": "4",
    ], defaultWorkers: 1)

    func render(_ application: Application) -> String {
        String(decoding: application.respond(to: HTTPRequest(method: "GET", path: "/metrics")).response.body, as: UTF8.self)
    }

    @Test func everyRouteHasARowOfItsOwnAndEverySlotFitsTheMapping() throws {
        let layout = MetricsLayout(processCount: 3)
        #expect(layout.routeCount == Routes.table.count)
        let rows = Routes.table.indices.map { layout.row(routeIndex: $0, method: "GET") }
            + MetricsLayout.unmatchedMethods.map { layout.row(routeIndex: nil, method: $0) }
        #expect(Set(rows).count == rows.count && rows.max() == layout.rowCount - 1)
        #expect(layout.pool.inFlightSlots.count == 3)
        #expect(layout.sessionGenerationBase == layout.pool.end)
        #expect(layout.sessionGenerationBase + SessionGenerations.bucketCount == layout.requestBase)
        #expect(layout.securityEventBase + SecurityEvent.Kind.allCases.count + 2 == layout.slotCount)
        // The last route's last status and the last event are the mapping's last slots in their regions.
        let counters = try SharedCounters.create(slotCount: layout.slotCount)
        let application = try Application(configuration: configuration, counters: counters, layout: layout)
        let last = Routes.table.last!
        _ = application.respond(to: HTTPRequest(method: last.method.rawValue, path: last.path))
        _ = application.respond(to: HTTPRequest(method: "BREW", path: "/x"))
        let text = render(application)
        #expect(text.contains("route=\"\(last.path)\",method=\"\(last.method.rawValue)\""))
        #expect(text.contains(#"user_service_requests_total{route="unmatched",method="OTHER",status="404"} 1"#))
    }

    /// A reload's binary may have more routes or event kinds (its rows lie elsewhere) while the old workers drain:
    /// the session cache's generations stay where both look for them.
    @Test func theSessionGenerationsLieWhereEveryBinaryOfThePoolLooks() {
        let before = MetricsLayout(routeCount: 10, processCount: 3), after = MetricsLayout(routeCount: 40, processCount: 3)
        #expect(before.sessionGenerationBase == after.sessionGenerationBase)
        #expect(before.requestBase == after.requestBase && before.securityEventBase != after.securityEventBase)
    }

    @Test func aRouteTableLargerThanTheLayoutIsRefusedAtStart() throws {
        let small = MetricsLayout(routeCount: Routes.table.count - 1, processCount: 1)
        let counters = try SharedCounters.create(slotCount: MetricsLayout(processCount: 1).slotCount)
        #expect(throws: MetricsLayout.Mismatch.routes(Routes.table.count, labelled: Routes.table.count - 1)) {
            try Application(configuration: configuration, counters: counters, layout: small)
        }
        #expect(MetricsLayout.Mismatch.routes(15, labelled: 14).description
            == "metrics: the route table has 15 routes but the pool's metrics label 14: restart the service (a reload cannot resize the metrics)")
        // Counters smaller than the layout are refused too, rather than written past their end.
        let layout = MetricsLayout(processCount: 1)
        let short = try SharedCounters.create(slotCount: layout.slotCount - 1)
        #expect(throws: MetricsLayout.Mismatch.slots(needed: layout.slotCount, mapped: layout.slotCount - 1)) {
            try Application(configuration: configuration, counters: short, layout: layout)
        }
    }

    @Test func inFlightIsTheSumOfTheWorkersSlotsAndPasswordHashesAreCounted() throws {
        let layout = MetricsLayout(processCount: 3)
        let counters = try SharedCounters.create(slotCount: layout.slotCount)
        let application = try Application(configuration: configuration, counters: counters, layout: layout)
        counters.add(layout.pool.inFlight(0))
        counters.add(layout.pool.inFlight(2))
        application.services.metrics.recordPasswordHash()
        application.services.metrics.recordPasswordHash()
        var text = render(application)
        #expect(text.contains("\nuser_service_requests_in_flight 2\n"))
        // The dummy hash made when the application starts, then the two recorded here.
        #expect(text.contains("# TYPE user_service_password_hashes_total counter\nuser_service_password_hashes_total 3\n"))
        // The master zeroes the slot of a worker that died mid-request.
        counters.store(layout.pool.inFlight(2), 0)
        text = render(application)
        #expect(text.contains("\nuser_service_requests_in_flight 1\n"))
    }
}
