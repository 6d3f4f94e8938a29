/// The counters the pool itself writes, in the first slots of the mapping.
public enum PoolCounter: Int, CaseIterable {
    case workerStarts = 0
    case workerRestarts = 1
    case reloads = 2
}

/// Where the pool's slots lie: its counters, then one in-flight slot per worker process.
///
/// A worker adds to and subtracts from its own in-flight slot only; the master hands each process a slot at
/// spawn and zeroes it when it reaps the process, so a worker killed mid-request cannot leave the gauge up.
public struct PoolSlots: Sendable, Equatable {
    /// How many worker processes may run at once (each needs an in-flight slot of its own).
    public let processCount: Int

    public init(processCount: Int) { self.processCount = processCount }

    /// The in-flight slot of the process given in-flight index `index` (0 ..< processCount).
    public func inFlight(_ index: Int) -> Int {
        precondition(index >= 0 && index < processCount)
        return PoolCounter.allCases.count + index
    }

    public var inFlightSlots: Range<Int> { PoolCounter.allCases.count ..< end }

    /// The first slot after the pool's: where the application's begin.
    public var end: Int { PoolCounter.allCases.count + processCount }
}
