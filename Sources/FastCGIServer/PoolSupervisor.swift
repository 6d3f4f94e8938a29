/// A process id, so a signal and a pid cannot be swapped by mistake.
public struct ProcessID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
}

public enum Signal: Sendable, Hashable {
    case terminate, kill

    var number: Int32 { self == .terminate ? 15 : 9 }
}

/// How a worker ended, as `waitpid` reports it.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): return "exit code \(code)"
        case .signaled(let signal): return "signal \(signal)"
        }
    }
}

/// The master's supervision logic as a pure state machine: events in, actions out, no processes or clocks.
///
/// Normal running keeps one worker per slot, restarting a dead one after a growing, capped delay (a crash-loop
/// brake). A reload replaces the workers one slot at a time: a replacement is started with the new
/// configuration, and only once it reports ready is the old worker asked to finish and exit; if a replacement
/// dies or is not ready in time, the reload is abandoned and the old workers keep serving. A stop asks every
/// worker to finish its request and exit, and kills those still running when the drain timeout ends.
public struct PoolSupervisor {
    public struct Settings: Sendable {
        public var workerCount: Int
        public var drainTimeout: UInt64
        public var readyTimeout: UInt64 = 10_000_000_000
        public var initialRestartDelay: UInt64 = 100_000_000
        public var maximumRestartDelay: UInt64 = 30_000_000_000
        /// A worker that lived this long resets its slot's crash count.
        public var stableAfter: UInt64 = 10_000_000_000

        public init(workerCount: Int, drainTimeout: UInt64) {
            self.workerCount = workerCount
            self.drainTimeout = drainTimeout
        }
    }

    public enum Configuration: Sendable, Hashable { case current, next }

    public enum Action: Hashable, Sendable {
        case spawn(slot: Int, configuration: Configuration)
        case signal(ProcessID, Signal)
        case notify(String)
        case log(String)
        case countRestart
        /// The reload finished: the next configuration is now the current one.
        case commitReload
        /// The reload failed: drop the next configuration.
        case abandonReload
        case exit(Int32)
    }

    public enum Event: Equatable, Sendable {
        case start
        case spawned(slot: Int, ProcessID)
        case spawnFailed(slot: Int)
        case ready(ProcessID)
        case exited(ProcessID, ExitStatus)
        case terminate
        case reload
        case tick
    }

    enum Phase: Equatable {
        case starting
        case running
        /// Replacing slots in order; `slot` is the one being replaced now.
        case reloading(slot: Int)
        case stopping(deadline: UInt64, killed: Bool)
    }

    struct Slot: Equatable {
        var worker: ProcessID?
        var startedAt: UInt64 = 0
        var ready = false
        var replacement: ProcessID?
        var replacementStartedAt: UInt64 = 0
        var restartAt: UInt64?
        var consecutiveCrashes = 0
    }

    public let settings: Settings
    private(set) var phase: Phase = .starting
    private(set) var slots: [Slot]
    /// Workers asked to exit (replaced or stopping), still running.
    private(set) var retiring: Set<ProcessID> = []

    public init(settings: Settings) {
        self.settings = settings
        slots = Array(repeating: Slot(), count: settings.workerCount)
    }

    /// Every process the pool has running now.
    public var processes: [ProcessID] {
        slots.flatMap { [$0.worker, $0.replacement].compactMap { $0 } } + retiring
    }

    /// When the master must next call `.tick` (monotonic nanoseconds), if ever.
    public var nextDeadline: UInt64? {
        var deadlines = slots.compactMap(\.restartAt)
        if case .stopping(let deadline, let killed) = phase, !killed { deadlines.append(deadline) }
        if case .reloading(let slot) = phase, slots[slot].replacement != nil {
            deadlines.append(slots[slot].replacementStartedAt + settings.readyTimeout)
        }
        return deadlines.min()
    }

    /// Dispatches `event` to the method that handles it.
    public mutating func handle(_ event: Event, now: UInt64) -> [Action] {
        switch event {
        case .start: return started()
        case .spawned(let slot, let pid): return spawned(slot: slot, pid, now: now)
        case .spawnFailed(let slot): return spawnFailed(slot: slot, now: now)
        case .ready(let pid): return ready(pid)
        case .exited(let pid, let status): return exited(pid, status, now: now)
        case .terminate: return terminate(now: now)
        case .reload: return reload()
        case .tick: return tick(now: now)
        }
    }

    mutating func started() -> [Action] {
        slots.indices.map { .spawn(slot: $0, configuration: .current) }
    }

    mutating func spawned(slot: Int, _ pid: ProcessID, now: UInt64) -> [Action] {
        if case .reloading(let replacing) = phase, replacing == slot, slots[slot].replacement == nil, slots[slot].worker != nil {
            slots[slot].replacement = pid
            slots[slot].replacementStartedAt = now
        } else {
            slots[slot].worker = pid
            slots[slot].startedAt = now
            slots[slot].ready = false
            slots[slot].restartAt = nil
        }
        return []
    }

    mutating func spawnFailed(slot: Int, now: UInt64) -> [Action] {
        if case .reloading(let replacing) = phase, replacing == slot, slots[slot].worker != nil {
            return abandonReload("a new worker could not be started")
        }
        return scheduleRestart(slot, now: now, reason: "could not be started")
    }

    mutating func ready(_ pid: ProcessID) -> [Action] {
        if let slot = slots.firstIndex(where: { $0.worker == pid }) {
            slots[slot].ready = true
            if phase == .starting, slots.allSatisfy(\.ready) {
                phase = .running
                return [.notify("READY=1"), .log("pool ready with \(slots.count) workers")]
            }
            return []
        }
        if let slot = slots.firstIndex(where: { $0.replacement == pid }), case .reloading = phase, let old = slots[slot].worker {
            slots[slot] = Slot(worker: pid, startedAt: slots[slot].replacementStartedAt, ready: true)
            retiring.insert(old)
            return [.signal(old, .terminate)] + advanceReload(after: slot)
        }
        return []
    }

    mutating func exited(_ pid: ProcessID, _ status: ExitStatus, now: UInt64) -> [Action] {
        if retiring.remove(pid) != nil {
            return finishIfStopped()
        }
        if let slot = slots.firstIndex(where: { $0.replacement == pid }) {
            slots[slot].replacement = nil
            if case .stopping = phase { return finishIfStopped() }
            return abandonReload("a new worker ended with \(status) before it was ready")
        }
        guard let slot = slots.firstIndex(where: { $0.worker == pid }) else { return [] }
        let lived = now - slots[slot].startedAt
        slots[slot].worker = nil
        slots[slot].ready = false
        if case .stopping = phase { return finishIfStopped() }
        if lived >= settings.stableAfter { slots[slot].consecutiveCrashes = 0 }
        var actions: [Action] = [.countRestart]
        if case .reloading(let replacing) = phase, replacing == slot, let replacement = slots[slot].replacement {
            // The worker being replaced died: its replacement takes the slot once ready.
            slots[slot].worker = replacement
            slots[slot].startedAt = slots[slot].replacementStartedAt
            slots[slot].replacement = nil
            return actions + [.log("worker \(pid) ended with \(status) during reload")]
        }
        actions += scheduleRestart(slot, now: now, reason: "ended with \(status)", pid: pid)
        return actions
    }

    mutating func terminate(now: UInt64) -> [Action] {
        if case .stopping = phase { return [] }
        phase = .stopping(deadline: now + settings.drainTimeout, killed: false)
        var actions: [Action] = [.notify("STOPPING=1"), .log("stopping: finishing in-flight requests")]
        for index in slots.indices {
            slots[index].restartAt = nil
            for pid in [slots[index].worker, slots[index].replacement].compactMap({ $0 }) {
                retiring.insert(pid)
                actions.append(.signal(pid, .terminate))
            }
            slots[index].worker = nil
            slots[index].replacement = nil
        }
        for pid in retiring where !actions.contains(.signal(pid, .terminate)) { actions.append(.signal(pid, .terminate)) }
        return actions + finishIfStopped()
    }

    mutating func reload() -> [Action] {
        switch phase {
        case .stopping: return []
        case .reloading: return [.log("reload ignored: a reload is already in progress")]
        case .starting, .running:
            phase = .reloading(slot: 0)
            return [.notify("RELOADING=1"), .log("reloading: replacing \(slots.count) workers one at a time")] + replace(slot: 0)
        }
    }

    mutating func tick(now: UInt64) -> [Action] {
        var actions: [Action] = []
        if case .stopping(let deadline, let killed) = phase, !killed, now >= deadline {
            phase = .stopping(deadline: deadline, killed: true)
            for pid in retiring {
                actions.append(.log("worker \(pid) did not finish within the drain timeout: killing it"))
                actions.append(.signal(pid, .kill))
            }
            return actions
        }
        if case .reloading(let slot) = phase, let replacement = slots[slot].replacement,
           now >= slots[slot].replacementStartedAt + settings.readyTimeout {
            slots[slot].replacement = nil
            retiring.insert(replacement)
            return [.signal(replacement, .kill)] + abandonReload("a new worker was not ready in time")
        }
        for index in slots.indices {
            if let at = slots[index].restartAt, now >= at {
                slots[index].restartAt = nil
                // A slot the reload has already passed runs the new configuration.
                var configuration = Configuration.current
                if case .reloading(let replacing) = phase, index < replacing { configuration = .next }
                actions.append(.spawn(slot: index, configuration: configuration))
            }
        }
        return actions
    }

    private mutating func scheduleRestart(_ slot: Int, now: UInt64, reason: String, pid: ProcessID? = nil) -> [Action] {
        slots[slot].consecutiveCrashes += 1
        let crashes = slots[slot].consecutiveCrashes
        let shift = UInt64(min(crashes - 1, 20))
        let delay = min(settings.initialRestartDelay << shift, settings.maximumRestartDelay)
        slots[slot].restartAt = now + delay
        let who = pid.map { "worker \($0)" } ?? "worker for slot \(slot)"
        var actions: [Action] = [.log("\(who) \(reason); restarting in \(delay / 1_000_000) ms")]
        if delay == settings.maximumRestartDelay {
            actions.append(.log("crash loop: slot \(slot) failed \(crashes) times in a row; restarts slowed to the maximum delay"))
        }
        return actions
    }

    private mutating func replace(slot: Int) -> [Action] {
        guard slots[slot].worker != nil else { return advanceReload(after: slot) }
        return [.spawn(slot: slot, configuration: .next)]
    }

    private mutating func advanceReload(after slot: Int) -> [Action] {
        let next = slot + 1
        if next < slots.count {
            phase = .reloading(slot: next)
            return replace(slot: next)
        }
        phase = .running
        return [.commitReload, .notify("READY=1"), .log("reload complete")]
    }

    private mutating func abandonReload(_ reason: String) -> [Action] {
        phase = .running
        return [.abandonReload, .notify("READY=1"), .log("reload failed, keeping the running workers: \(reason)")]
    }

    private func finishIfStopped() -> [Action] {
        guard case .stopping = phase, processes.isEmpty else { return [] }
        return [.log("stopped"), .exit(0)]
    }
}
