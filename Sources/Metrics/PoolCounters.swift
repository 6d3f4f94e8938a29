/// The slots the pool itself writes, ahead of the application's own.
public enum PoolCounter: Int, CaseIterable {
    case workerStarts = 0
    case workerRestarts = 1
    case reloads = 2
    case inFlightRequests = 3

    /// The first slot the application may use.
    public static let applicationBase = 8
    /// Size of the whole mapping, pool and application slots.
    public static let totalSlots = 8192
}
