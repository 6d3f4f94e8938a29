import Metrics

/// The session caches' generation numbers, one per bucket of users, in the shared mapping the master makes for
/// every worker of the pool (`MetricsLayout.sessionGenerationBase`). A cached entry holds its bucket's number as it
/// was before the entry's query ran, and is used only while the number is unchanged. A worker whose own transaction
/// changed what a user's session check reads bumps the user's bucket before it answers, so every worker on this host
/// stops using that user's entries from the next request on, whatever the notifications' timing.
struct SessionGenerations {
    /// 32 KiB of the mapping. Users who share a bucket only cost each other a query now and then.
    static let bucketCount = 4096

    let counters: SharedCounters
    let base: Int

    /// The bucket of a user id (FNV-1a over its text, letter case ignored, so a token's upper-case UUID and
    /// PostgreSQL's lower-case one share it).
    static func bucket(of userID: String) -> Int {
        Int(SessionCache.hash(userID) % UInt32(bucketCount))
    }

    func current(_ bucket: Int) -> UInt64 { counters.load(base + bucket) }

    func bump(_ bucket: Int) { counters.add(base + bucket) }

    func bumpAll() {
        for bucket in 0..<Self.bucketCount { bump(bucket) }
    }
}
