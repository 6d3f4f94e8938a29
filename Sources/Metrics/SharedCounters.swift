internal import CSystem
internal import Glibc

/// Counters in a shared memory mapping that every process of the pool adds to.
///
/// The master creates the mapping (a memfd) before it starts workers; each worker maps the same file, so
/// totals cover the whole pool and survive worker restarts and reloads. Adds are atomic.
public final class SharedCounters {
    public let fileDescriptor: Int32
    public let slotCount: Int
    private let base: UnsafeMutablePointer<UInt64>

    public enum Failure: Error { case create(errno: Int32), map(errno: Int32) }

    /// Creates a new zeroed mapping of `slotCount` counters.
    public static func create(slotCount: Int) throws(Failure) -> SharedCounters {
        let fd = csystem_memfd_create("user-service-metrics")
        guard fd >= 0 else { throw .create(errno: errno) }
        guard ftruncate(fd, off_t(slotCount * 8)) == 0 else {
            let code = errno
            close(fd)
            throw .create(errno: code)
        }
        do {
            return try SharedCounters(fileDescriptor: fd)
        } catch {
            close(fd)  // not owned by a SharedCounters yet
            throw error
        }
    }

    /// Maps the counters of an inherited file descriptor, as many as the file holds.
    public init(fileDescriptor: Int32) throws(Failure) {
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 else { throw .map(errno: errno) }
        let slotCount = Int(info.st_size) / 8
        let address = mmap(nil, slotCount * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fileDescriptor, 0)
        guard let address, address != MAP_FAILED else { throw .map(errno: errno) }
        self.fileDescriptor = fileDescriptor
        self.slotCount = slotCount
        self.base = address.bindMemory(to: UInt64.self, capacity: slotCount)
    }

    deinit {
        munmap(base, slotCount * 8)
        close(fileDescriptor)
    }

    public func add(_ slot: Int, _ value: UInt64 = 1) {
        precondition(slot >= 0 && slot < slotCount)
        csystem_atomic_add(base + slot, value)
    }

    public func subtract(_ slot: Int, _ value: UInt64 = 1) {
        precondition(slot >= 0 && slot < slotCount)
        csystem_atomic_sub(base + slot, value)
    }

    public func store(_ slot: Int, _ value: UInt64) {
        precondition(slot >= 0 && slot < slotCount)
        csystem_atomic_store(base + slot, value)
    }

    public func load(_ slot: Int) -> UInt64 {
        precondition(slot >= 0 && slot < slotCount)
        return csystem_atomic_load(base + slot)
    }
}

@available(*, unavailable)
extension SharedCounters: Sendable {}
