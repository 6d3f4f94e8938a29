import CInterop
internal import CSystem
internal import Glibc

/// Starts worker processes by re-executing this binary with `worker`: fork without exec is unsafe once
/// any thread exists, and re-exec picks up an upgraded binary on reload.
///
/// The child gets the listening socket on fd 0, the shared counters on fd 3 and the write end of a
/// readiness pipe on fd 4; every other descriptor of the master is close-on-exec.
struct WorkerSpawner {
    let executable: String
    let countersFD: Int32

    struct Spawned {
        let pid: ProcessID
        /// Read end of the readiness pipe: one byte when the worker is ready, EOF if it died first.
        let readyFD: Int32
    }

    /// Starts a worker on `listenFD` (the main or the password socket).
    func spawn(listenFD: Int32, environment: [String: String], metrics: WorkerMetrics) throws(SystemCalls.Failure) -> Spawned {
        var pipeFDs: [Int32] = [0, 0]
        // Single-threaded: moveHigh sets close-on-exec before any other spawn can inherit the pipe.
        guard pipe(&pipeFDs) == 0 else { throw SystemCalls.Failure(call: "pipe", code: errno) }
        let readEnd = try SystemCalls.moveHigh(pipeFDs[0])
        let writeEnd = try SystemCalls.moveHigh(pipeFDs[1])
        defer { close(writeEnd) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // All sources are ≥ 10, so no dup2 below overwrites another's source.
        posix_spawn_file_actions_adddup2(&actions, listenFD, Worker.listenFD)
        posix_spawn_file_actions_adddup2(&actions, countersFD, Worker.countersFD)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, Worker.readyFD)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The worker reads TERM/INT/HUP/QUIT from a signalfd: keep them blocked across exec so none is lost or
        // acted on by default before it is set up. Everything else starts with default handling.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT] { sigaddset(&blocked, signal) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGPIPE, SIGUSR1] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &blocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let arguments = [executable, "worker"] + metrics.arguments
        let variables = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        // > argv and envp: arrays of pointers to null-terminated strings, terminated by a null pointer.
        // posix_spawn takes `char *const []` but does not write through the pointers.
        let result = withCStrings(arguments + [nil]) { argv in
            withCStrings(variables + [nil]) { envp in
                posix_spawn(&pid, executable, &actions, &attributes, argv.map { $0.map(UnsafeMutablePointer.init(mutating:)) },
                            envp.map { $0.map(UnsafeMutablePointer.init(mutating:)) })
            }
        }
        guard result == 0 else {
            close(readEnd)
            throw SystemCalls.Failure(call: "posix_spawn \(executable)", code: result)
        }
        return Spawned(pid: ProcessID(pid), readyFD: readEnd)
    }
}
