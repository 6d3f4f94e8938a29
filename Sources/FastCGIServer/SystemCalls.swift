internal import CSystem
internal import Glibc

/// Small wrappers over the system calls the pool uses, so the pool's files read as what they do. The signal and
/// poll helpers are public for the other long-running command (`user-service mailer`).
public enum SystemCalls {
    public struct Failure: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        public var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
    }

    /// Moves `fd` to a number ≥ 10 with close-on-exec, so the fds 0, 3 and 4 that children get stay free.
    static func moveHigh(_ fd: Int32) throws(Failure) -> Int32 {
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, 10)
        guard moved >= 0 else { throw Failure(call: "fcntl(F_DUPFD_CLOEXEC)", code: errno) }
        close(fd)
        return moved
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    static func isSocket(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }

    /// The address family of a socket (`AF_UNIX`, `AF_INET`, ...), nil if `fd` is not one.
    static func socketFamily(_ fd: Int32) -> Int32? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 ? Int32(address.ss_family) : nil
    }

    /// A signalfd for `signals`, which are blocked in this process so they are only read from it.
    public static func blockedSignalFD(_ signals: [Int32]) throws(Failure) -> Int32 {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        guard sigprocmask(SIG_BLOCK, &mask, nil) == 0 else { throw Failure(call: "sigprocmask", code: errno) }
        let fd = signalfd(-1, &mask, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        guard fd >= 0 else { throw Failure(call: "signalfd", code: errno) }
        return fd
    }

    /// The signal numbers waiting on a signalfd.
    public static func readSignals(_ fd: Int32) -> [Int32] {
        var signals: [Int32] = []
        var info = signalfd_siginfo()
        while read(fd, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            signals.append(Int32(info.ssi_signo))
        }
        return signals
    }

    /// Waits for any of `fds` to be readable, at most `timeoutMilliseconds` (-1: no limit). Returns the readable ones.
    public static func poll(_ fds: [Int32], timeoutMilliseconds: Int32) -> [Int32] {
        var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let count = Glibc.poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
        guard count > 0 else { return [] }
        return entries.filter { $0.revents != 0 }.map(\.fd)
    }

    static func exitStatus(_ status: Int32) -> ExitStatus {
        csystem_wifexited(status) != 0 ? .exited(csystem_wexitstatus(status)) : .signaled(csystem_wtermsig(status))
    }

    /// Calls `body` with a `sockaddr_un` for `path` and its length; nil when the path does not fit. A path that
    /// starts with a NUL byte names an abstract socket, whose address length counts exactly its bytes.
    static func withUnixAddress<R>(_ path: [UInt8], _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        let length = path.first == 0 ? MemoryLayout<sa_family_t>.size + path.count : MemoryLayout<sockaddr_un>.size
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(length)) }
        }
    }

    /// The path of the running binary, read once at start: spawning this path after an upgrade runs the new file.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
