internal import Glibc
import HTTP
import Metrics

/// How `user-service serve` was started.
public struct ServeOptions: Sendable {
    public var listen: ListenAddress?
    public var listenPassword: ListenAddress?
    public var socketMode: UInt32

    public init(listen: ListenAddress?, listenPassword: ListenAddress?, socketMode: UInt32) {
        self.listen = listen
        self.listenPassword = listenPassword
        self.socketMode = socketMode
    }
}

/// The master process: holds the sockets, runs the workers through `PoolSupervisor`, and turns signals,
/// child exits and readiness into its events. It installs no signal handlers: signals are blocked and read
/// from a signalfd, so none is lost between checks.
public final class PoolMaster {
    private let application: ServedApplication
    private let inherited: [String: String]
    private var supervisor: PoolSupervisor
    private let spawner: WorkerSpawner
    private let sockets: ListeningSockets
    private let transport: ListeningSockets.Transport
    /// Slots below `mainWorkers` serve the main socket; the next `passwordWorkers` the password socket.
    private let mainWorkers: Int
    private let passwordWorkers: Int
    private let counters: SharedCounters
    private let metrics: MetricsShape
    private let processCount: Int
    private var inFlight: InFlightSlots
    private let notifier: SystemdNotifier
    private let signals: Int32
    private var currentEnvironment: [String: String]
    private var nextEnvironment: [String: String]?
    private var readyPipes: [Int32: ProcessID] = [:]

    /// Starts the pool and serves until stopped; returns the exit code.
    public static func run(_ options: ServeOptions, application: ServedApplication) -> Int32 {
        do {
            let master = try PoolMaster(options, application: application)
            return master.loop()
        } catch {
            Log.write("user-service: \(error)")
            return 1
        }
    }

    private init(_ options: ServeOptions, application: ServedApplication) throws {
        self.application = application
        inherited = Environment.process()
        let configuration = try application.configure(inherited)
        configuration.warnings.forEach { Log.write("user-service: warning: \($0)") }
        // Signals are blocked before any worker exists, so a TERM that arrives while starting is not lost.
        signals = try SystemCalls.blockedSignalFD([SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT])
        sockets = try ListeningSockets.acquire(listen: options.listen, listenPassword: options.listenPassword,
                                               socketMode: options.socketMode, environment: inherited)
        transport = try sockets.transport()
        mainWorkers = configuration.workers
        passwordWorkers = sockets.password == nil ? 0 : configuration.passwordWorkers
        processCount = InFlightSlots.processCount(workers: mainWorkers + passwordWorkers)
        metrics = application.metricsShape(processCount)
        inFlight = InFlightSlots(count: processCount)
        counters = try SharedCounters.create(slotCount: metrics.slotCount)
        spawner = WorkerSpawner(executable: SystemCalls.executablePath(),
                                countersFD: try SystemCalls.moveHigh(dup(counters.fileDescriptor)))
        notifier = SystemdNotifier(environment: inherited)
        supervisor = PoolSupervisor(settings: .init(
            workerCount: mainWorkers + passwordWorkers, drainTimeout: UInt64(configuration.drainTimeoutSeconds) * 1_000_000_000))
        currentEnvironment = try AllowedClients.workerEnvironment(Environment.forWorkers(configuration.environment), transport: transport)
    }

    private func loop() -> Int32 {
        Log.write("user-service \(application.version): master \(getpid()) starting \(mainWorkers) workers"
            + (passwordWorkers > 0 ? " and \(passwordWorkers) password workers" : ""))
        if let code = perform(supervisor.handle(.start, now: Clock.nanoseconds())) { return code }
        while true {
            var timeout: Int32 = -1
            let now = Clock.nanoseconds()
            if let deadline = supervisor.nextDeadline {
                timeout = deadline <= now ? 0 : Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
            }
            let readable = SystemCalls.poll([signals] + readyPipes.keys, timeoutMilliseconds: timeout)
            var events: [PoolSupervisor.Event] = []
            for fd in readable where fd != signals {
                guard let pid = readyPipes.removeValue(forKey: fd) else { continue }
                var byte: UInt8 = 0
                if read(fd, &byte, 1) == 1 { events.append(.ready(pid)) }
                close(fd)
            }
            if readable.contains(signals) {
                for signal in SystemCalls.readSignals(signals) {
                    switch signal {
                    case SIGCHLD: events += reapChildren()
                    case SIGHUP: if prepareReload() { events.append(.reload) }
                    default: events.append(.terminate)
                    }
                }
            }
            events.append(.tick)
            for event in events {
                if let code = perform(supervisor.handle(event, now: Clock.nanoseconds())) { return code }
            }
        }
    }

    private func reapChildren() -> [PoolSupervisor.Event] {
        var events: [PoolSupervisor.Event] = []
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { break }
            let process = ProcessID(pid)
            // A worker killed mid-request never subtracted its request: its slot is cleared for the next one.
            if let index = inFlight.release(process) { counters.store(PoolSlots(processCount: processCount).inFlight(index), 0) }
            if let fd = readyPipes.first(where: { $0.value == process })?.key {
                readyPipes[fd] = nil
                close(fd)
            }
            events.append(.exited(process, SystemCalls.exitStatus(status)))
        }
        return events
    }

    /// Re-reads the configuration (env file included); false, with the reason logged, when it is invalid.
    private func prepareReload() -> Bool {
        do {
            let configuration = try application.configure(inherited)
            if configuration.workers != mainWorkers
                || (sockets.password != nil && configuration.passwordWorkers != passwordWorkers) {
                Log.write("user-service: WORKERS or PASSWORD_WORKERS changed: new counts take effect at the next restart, not on reload")
            }
            nextEnvironment = try AllowedClients.workerEnvironment(Environment.forWorkers(configuration.environment), transport: transport)
            return true
        } catch {
            Log.write("user-service: reload refused, keeping the running workers: \(error)")
            return false
        }
    }

    /// Carries out the supervisor's actions; returns an exit code when the master must exit.
    private func perform(_ actions: [PoolSupervisor.Action]) -> Int32? {
        for action in actions {
            switch action {
            case .spawn(let slot, let which):
                let environment = which == .next ? (nextEnvironment ?? currentEnvironment) : currentEnvironment
                let event: PoolSupervisor.Event
                do {
                    let socket = slot < mainWorkers ? sockets.main : sockets.password!
                    let index = inFlight.free()
                    if index == inFlight.overflow { Log.write("user-service: every in-flight slot is held: the new worker shares the overflow slot") }
                    let spawned = try spawner.spawn(listenFD: socket.fd, environment: environment,
                                                    metrics: WorkerMetrics(routeCount: metrics.routeCount, processCount: processCount, inFlightIndex: index))
                    inFlight.assign(index, to: spawned.pid)
                    readyPipes[spawned.readyFD] = spawned.pid
                    event = .spawned(slot: slot, spawned.pid)
                } catch {
                    Log.write("user-service: \(error)")
                    event = .spawnFailed(slot: slot)
                }
                if let code = perform(supervisor.handle(event, now: Clock.nanoseconds())) { return code }
            case .signal(let pid, let signal):
                kill(pid.rawValue, signal.number)
            case .notify(let state):
                notifier.notify(state)
            case .log(let line):
                Log.write("user-service: \(line)")
            case .countRestart:
                counters.add(PoolCounter.workerRestarts.rawValue)
            case .commitReload:
                if let nextEnvironment { currentEnvironment = nextEnvironment }
                nextEnvironment = nil
                counters.add(PoolCounter.reloads.rawValue)
            case .abandonReload:
                nextEnvironment = nil
            case .exit(let code):
                sockets.removeOwnedPaths()
                return code
            }
        }
        return nil
    }
}

@available(*, unavailable)
extension PoolMaster: Sendable {}
