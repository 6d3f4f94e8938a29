/// Which worker process holds which in-flight slot of the shared counters. The master takes the lowest free index
/// for each spawn and frees it when it reaps the process (zeroing the slot), so no two live processes share one
/// and a worker killed mid-request leaves nothing counted.
///
/// The last index is an overflow that any number of processes share and nobody frees: a spawn never fails for
/// want of a slot (reloads faster than retiring workers finish their requests), at worst the gauge of a process
/// that then dies mid-request is not taken back.
struct InFlightSlots {
    private var holders: [ProcessID?]

    /// Every worker, a replacement and a retiring worker through two reloads in a row, then the overflow.
    static func processCount(workers: Int) -> Int { 4 * workers + 2 }

    init(count: Int) {
        precondition(count >= 2)
        holders = Array(repeating: nil, count: count - 1)
    }

    var overflow: Int { holders.count }

    /// The lowest index no live process holds, or the shared overflow.
    func free() -> Int { holders.firstIndex(where: { $0 == nil }) ?? overflow }

    mutating func assign(_ index: Int, to pid: ProcessID) {
        if index < holders.count { holders[index] = pid }
    }

    /// Frees the index `pid` held, if it held one of its own, and returns it.
    mutating func release(_ pid: ProcessID) -> Int? {
        guard let index = holders.firstIndex(of: pid) else { return nil }
        holders[index] = nil
        return index
    }
}
