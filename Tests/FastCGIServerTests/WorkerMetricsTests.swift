import Testing
import UserService
@testable import FastCGIServer

@Suite struct WorkerMetricsTests {
    @Test func inFlightSlotsAreHeldByOneLiveProcessEach() throws {
        var slots = InFlightSlots(count: InFlightSlots.processCount(workers: 1))
        #expect(try slots.free() == 0)
        slots.assign(0, to: ProcessID(10))
        slots.assign(try slots.free(), to: ProcessID(11))
        slots.assign(try slots.free(), to: ProcessID(12))
        #expect(throws: InFlightSlots.Exhausted.self) { try slots.free() }
        #expect(slots.release(ProcessID(11)) == 1)
        #expect(slots.release(ProcessID(11)) == nil)
        #expect(try slots.free() == 1)
    }

    @Test func theMasterPassesTheLayoutAndTheSlotAsWorkerOptions() {
        let metrics = WorkerMetrics(layout: MetricsLayout(routeCount: 14, processCount: 5), inFlightIndex: 4)
        let arguments = metrics.arguments
        var options: [String: String] = [:]
        for index in stride(from: 0, to: arguments.count, by: 2) { options[arguments[index]] = arguments[index + 1] }
        #expect(Set(options.keys) == WorkerMetrics.options)
        #expect(WorkerMetrics(options: options) == metrics)
        options["--in-flight-slot"] = "5"
        #expect(WorkerMetrics(options: options) == nil)
    }
}
