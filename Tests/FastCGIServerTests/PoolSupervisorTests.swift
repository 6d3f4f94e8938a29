import Testing
@testable import FastCGIServer

@Suite struct PoolSupervisorTests {
    let second: UInt64 = 1_000_000_000
    let a = ProcessID(101), b = ProcessID(102), c = ProcessID(103), d = ProcessID(104)

    func started() -> PoolSupervisor {
        var pool = PoolSupervisor(settings: .init(workerCount: 2, drainTimeout: 10 * second))
        #expect(pool.handle(.start, now: 0) == [.spawn(slot: 0, configuration: .current), .spawn(slot: 1, configuration: .current)])
        #expect(pool.handle(.spawned(slot: 0, a), now: 0) == [])
        #expect(pool.handle(.spawned(slot: 1, b), now: 0) == [])
        return pool
    }

    @Test func readyOnceEveryWorkerIsReady() {
        var pool = started()
        #expect(pool.handle(.ready(a), now: 1) == [])
        #expect(pool.handle(.ready(b), now: 1) == [.notify("READY=1"), .log("pool ready with 2 workers")])
    }

    @Test func deadWorkerIsRestartedWithGrowingCappedDelay() {
        var pool = started()
        _ = pool.handle(.ready(a), now: 0)
        _ = pool.handle(.ready(b), now: 0)
        let actions = pool.handle(.exited(a, .signaled(9)), now: second)
        #expect(actions == [.countRestart, .log("worker 101 ended with signal 9; restarting in 100 ms")])
        #expect(pool.nextDeadline == second + 100_000_000)
        #expect(pool.handle(.tick, now: second + 50_000_000) == [])
        #expect(pool.handle(.tick, now: second + 100_000_000) == [.spawn(slot: 0, configuration: .current)])
        _ = pool.handle(.spawned(slot: 0, c), now: second + 100_000_000)
        // Dies again at once: the delay doubles.
        _ = pool.handle(.exited(c, .exited(1)), now: second + 200_000_000)
        #expect(pool.nextDeadline == second + 400_000_000)
        // Many crashes in a row: the delay stops at the maximum and the brake is logged.
        var now = 2 * second
        var pid: Int32 = 200
        var last: [PoolSupervisor.Action] = []
        for _ in 0..<20 {
            now = pool.nextDeadline!
            _ = pool.handle(.tick, now: now)
            pid += 1
            _ = pool.handle(.spawned(slot: 0, ProcessID(pid)), now: now)
            last = pool.handle(.exited(ProcessID(pid), .exited(1)), now: now)
        }
        #expect(pool.nextDeadline == now + 30 * second)
        #expect(last.contains { if case .log(let line) = $0 { return line.hasPrefix("crash loop") } else { return false } })
    }

    @Test func reloadReplacesOneSlotAtATime() {
        var pool = started()
        _ = pool.handle(.ready(a), now: 0)
        _ = pool.handle(.ready(b), now: 0)
        #expect(pool.handle(.reload, now: second) == [
            .notify("RELOADING=1"), .log("reloading: replacing 2 workers one at a time"), .spawn(slot: 0, configuration: .next),
        ])
        _ = pool.handle(.spawned(slot: 0, c), now: second)
        // The old worker keeps serving until its replacement is ready.
        #expect(pool.handle(.ready(c), now: second) == [.signal(a, .terminate), .spawn(slot: 1, configuration: .next)])
        _ = pool.handle(.spawned(slot: 1, d), now: second)
        #expect(pool.handle(.ready(d), now: second) == [.signal(b, .terminate), .commitReload, .notify("READY=1"), .log("reload complete")])
        // The retired workers exiting is not a crash.
        #expect(pool.handle(.exited(a, .exited(0)), now: second) == [])
        #expect(pool.handle(.exited(b, .exited(0)), now: second) == [])
        #expect(Set(pool.processes) == [c, d])
    }

    @Test func failedReplacementKeepsTheOldWorkers() {
        var pool = started()
        _ = pool.handle(.ready(a), now: 0)
        _ = pool.handle(.ready(b), now: 0)
        _ = pool.handle(.reload, now: second)
        _ = pool.handle(.spawned(slot: 0, c), now: second)
        let actions = pool.handle(.exited(c, .exited(1)), now: second)
        #expect(actions == [.abandonReload, .notify("READY=1"), .log("reload failed, keeping the running workers: a new worker ended with exit code 1 before it was ready")])
        #expect(Set(pool.processes) == [a, b])
    }

    @Test func replacementNotReadyInTimeIsKilled() {
        var pool = started()
        _ = pool.handle(.reload, now: 0)
        _ = pool.handle(.spawned(slot: 0, c), now: 0)
        #expect(pool.nextDeadline == 10 * second)
        #expect(pool.handle(.tick, now: 10 * second) == [
            .signal(c, .kill), .abandonReload, .notify("READY=1"), .log("reload failed, keeping the running workers: a new worker was not ready in time"),
        ])
    }

    @Test func terminateDrainsThenKillsStragglers() {
        var pool = started()
        let actions = pool.handle(.terminate, now: second)
        #expect(actions.prefix(2) == [.notify("STOPPING=1"), .log("stopping: finishing in-flight requests")])
        #expect(Set(actions.dropFirst(2)) == [.signal(a, .terminate), .signal(b, .terminate)])
        #expect(pool.handle(.exited(a, .exited(0)), now: 2 * second) == [])
        #expect(pool.handle(.tick, now: 5 * second) == [])
        #expect(pool.handle(.tick, now: 11 * second) == [.log("worker 102 did not finish within the drain timeout: killing it"), .signal(b, .kill)])
        #expect(pool.handle(.exited(b, .signaled(9)), now: 11 * second) == [.log("stopped"), .exit(0)])
    }

    @Test func deadWorkerIsNotRestartedWhileStopping() {
        var pool = started()
        _ = pool.handle(.terminate, now: 0)
        _ = pool.handle(.exited(a, .signaled(9)), now: 0)
        #expect(pool.nextDeadline == 10 * second)
        #expect(pool.handle(.exited(b, .exited(0)), now: 0) == [.log("stopped"), .exit(0)])
    }
}
