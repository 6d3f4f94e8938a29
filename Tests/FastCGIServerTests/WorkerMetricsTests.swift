import Testing
@testable import FastCGIServer

@Suite struct WorkerMetricsTests {
    @Test func inFlightSlotsAreHeldByOneLiveProcessEach() {
        var slots = InFlightSlots(count: 4)
        #expect(slots.free() == 0 && slots.overflow == 3)
        slots.assign(0, to: ProcessID(10))
        slots.assign(slots.free(), to: ProcessID(11))
        slots.assign(slots.free(), to: ProcessID(12))
        // Full: further processes share the overflow, which is never freed (and so never zeroed).
        #expect(slots.free() == 3)
        slots.assign(slots.free(), to: ProcessID(13))
        slots.assign(slots.free(), to: ProcessID(14))
        #expect(slots.release(ProcessID(13)) == nil)
        #expect(slots.release(ProcessID(11)) == 1)
        #expect(slots.release(ProcessID(11)) == nil)
        #expect(slots.free() == 1)
        #expect(InFlightSlots.processCount(workers: 2) == 10)
    }

    @Test func theMasterPassesTheLayoutAndTheSlotAsWorkerOptions() {
        let metrics = WorkerMetrics(routeCount: 14, processCount: 5, inFlightIndex: 4)
        let arguments = metrics.arguments
        var options: [String: String] = [:]
        for index in stride(from: 0, to: arguments.count, by: 2) { options[arguments[index]] = arguments[index + 1] }
        #expect(Set(options.keys) == WorkerMetrics.options)
        #expect(WorkerMetrics(options: options) == metrics)
        options["--in-flight-slot"] = "5"
        #expect(WorkerMetrics(options: options) == nil)
    }
}
