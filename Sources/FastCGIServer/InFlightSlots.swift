/// Which worker process holds which in-flight slot of the shared counters. The master takes the lowest free index
/// for each spawn and frees it when it reaps the process (zeroing the slot), so no two live processes share one
/// and a worker killed mid-request leaves nothing counted.
struct InFlightSlots {
    private var holders: [ProcessID?]

    struct Exhausted: Error, CustomStringConvertible {
        let count: Int
        var description: String { "no in-flight slot free: \(count) worker processes are running" }
    }

    /// Room for every worker, a replacement during a reload, and every replaced worker still finishing its
    /// request: at most twice the worker count plus one.
    static func processCount(workers: Int) -> Int { 2 * workers + 1 }

    init(count: Int) { holders = Array(repeating: nil, count: count) }

    /// The lowest index no live process holds.
    func free() throws(Exhausted) -> Int {
        guard let index = holders.firstIndex(where: { $0 == nil }) else { throw Exhausted(count: holders.count) }
        return index
    }

    mutating func assign(_ index: Int, to pid: ProcessID) { holders[index] = pid }

    /// Frees the index `pid` held, if it held one, and returns it.
    mutating func release(_ pid: ProcessID) -> Int? {
        guard let index = holders.firstIndex(of: pid) else { return nil }
        holders[index] = nil
        return index
    }
}
