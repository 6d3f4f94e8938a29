internal import Glibc
import HTTP
import Metrics

/// A worker process: accepts FastCGI requests on fd 0 one at a time until asked to stop.
///
/// TERM, INT, HUP and QUIT are blocked and read from a signalfd polled beside the listening socket, so a signal
/// never interrupts a request half-written (libfcgi does not retry interrupted reads and writes). On TERM the
/// worker finishes the request in hand, accepts no other, and exits 0.
public enum Worker {
    static let listenFD: Int32 = 0
    static let countersFD: Int32 = 3
    static let readyFD: Int32 = 4

    public static func run(environment: [String: String], metrics: WorkerMetrics, application: ServedApplication) -> Never {
        let signals: Int32
        do {
            signals = try SystemCalls.blockedSignalFD([SIGTERM, SIGINT, SIGHUP, SIGQUIT])
        } catch {
            Log.write("worker: \(error)")
            exit(1)
        }
        let counters: SharedCounters
        let responder: any HTTPResponder
        do {
            counters = try SharedCounters(fileDescriptor: countersFD)
            responder = try application.makeResponder(environment, counters, metrics)
        } catch {
            Log.write("worker: \(error)")
            exit(1)
        }
        FastCGILibrary.initialize()
        SystemCalls.setNonBlocking(listenFD)
        let request = FastCGIRequest(listenFD: listenFD)
        counters.add(PoolCounter.workerStarts.rawValue)

        // Tell the master this worker is ready to serve.
        _ = Glibc.write(readyFD, "R", 1)
        close(readyFD)

        var log = RequestLog()
        // The responder's work between requests (`HTTPResponder.idle`): due once its interval has passed, whether
        // the worker waited or served meanwhile.
        let idleInterval = responder.idleIntervalMilliseconds
        var idleDue = Clock.nanoseconds()
        while true {
            // Request lines are written in batches while requests keep coming, and at once when the worker goes idle.
            var readable = log.isEmpty ? [] : SystemCalls.poll([listenFD, signals], timeoutMilliseconds: 0)
            if readable.isEmpty {
                log.flush()
                readable = SystemCalls.poll([listenFD, signals], timeoutMilliseconds: idleInterval ?? -1)
            }
            if let idleInterval, Clock.nanoseconds() >= idleDue {
                responder.idle()
                idleDue = Clock.nanoseconds() + UInt64(idleInterval) * 1_000_000
            }
            if readable.contains(signals) {
                let received = SystemCalls.readSignals(signals)
                if received.contains(where: { $0 != SIGHUP }) {
                    log.flush()
                    exit(0)
                }
            }
            guard readable.contains(listenFD) else { continue }
            switch request.accept() {
            case .nothing: continue
            case .failed(let code):
                Log.write("worker \(getpid()): accept failed (\(code))")
                usleep(100_000)
                continue
            case .accepted:
                serve(request, responder: responder, counters: counters, inFlightSlot: metrics.inFlightSlot, log: &log)
            }
        }
    }

    private static let pid = getpid()

    private static func serve(_ fastCGI: FastCGIRequest, responder: any HTTPResponder, counters: SharedCounters, inFlightSlot: Int,
                              log: inout RequestLog) {
        let start = Clock.nanoseconds()
        // This worker's own slot: the master zeroes it if the worker dies before the subtraction.
        counters.add(inFlightSlot)
        defer { counters.subtract(inFlightSlot) }
        let request = RequestReader.read(fastCGI, bodyLimit: responder.bodyLimit)
        let outcome = responder.respond(to: request)
        fastCGI.write(outcome.response)
        fastCGI.finish()
        log.append(method: request.method, route: outcome.route, status: outcome.response.status.code,
                   microseconds: Int((Clock.nanoseconds() - start) / 1000), requestID: request.requestID,
                   remoteAddress: request.remoteAddress, pid: pid)
    }
}
