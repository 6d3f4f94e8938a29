import HTTP
import Postgres

/// The session check of every authenticated request, answered from the worker's `SessionCache` when it may be.
///
/// Before each use of the cache the worker's connection is checked as every use of it is (`isAlive`: one
/// zero-timeout poll, and a non-blocking read only when something arrived — no round trip), and the notifications
/// read meanwhile remove what they name. Only reads (GET, HEAD) are answered from the cache: a request that writes
/// makes a round trip anyway, so it pays one more for the authoritative check, and no write is made on a session
/// that a notification still on its way has revoked. After each request, before its answer is written,
/// `requestFinished` takes the notifications its own transactions caused (PostgreSQL sends them before the COMMIT's
/// answer, so they are in libpq's hands already) and bumps their users' shared generations: on this host the change
/// holds for the very next request, whichever worker takes it.
final class SessionCheck {
    private let sessions: SessionRepository
    private let database: Database
    private let lastSeenInterval: Int
    private let metrics: ServiceMetrics
    /// nil when `SESSION_CACHE_SECONDS` is 0: every check is a query.
    private let cache: SessionCache?

    init(sessions: SessionRepository, database: Database, lastSeenInterval: Int, metrics: ServiceMetrics, cache: SessionCache?) {
        self.sessions = sessions
        self.database = database
        self.lastSeenInterval = lastSeenInterval
        self.metrics = metrics
        self.cache = cache
    }

    /// The user of the live session `sessionID` of `userID` (both from a verified token), or nil.
    func user(sessionID: String, userID: String, cacheable: Bool) throws -> UserRecord? {
        guard let cache else {
            metrics.recordSessionCheck(cached: false)
            return try sessions.authenticate(sessionID: sessionID, userID: userID, lastSeenInterval: lastSeenInterval)?.user
        }
        receiveNotifications(cache)
        let now = Clock.nanoseconds()
        if cacheable, let user = cache.user(sessionID: sessionID, userID: userID, nanoseconds: now,
                                            microsecondsSinceEpoch: Clock.unixMicroseconds()) {
            metrics.recordSessionCheck(cached: true)
            return user
        }
        metrics.recordSessionCheck(cached: false)
        let ticket = cache.ticket(for: userID)
        guard let live = try sessions.authenticate(sessionID: sessionID, userID: userID, lastSeenInterval: lastSeenInterval)
        else { return nil }
        cache.store(live, sessionID: sessionID, userID: userID, ticket: ticket, connection: database.connectionNumber, nanoseconds: now)
        return live.user
    }

    /// After each request, before its answer: the notifications read during it, its own transactions' included.
    func requestFinished() {
        guard let cache else { return }
        database.takeNotifications { cache.received($0) }
    }

    /// How often an idle worker reads its notifications (`idle`), in milliseconds; nil without the cache.
    var idleIntervalMilliseconds: Int32? { cache == nil ? nil : 1000 }

    /// Between requests, at least once a second: reads the notifications that arrived (a bounded read, as before
    /// each use of the cache). A connection nobody reads would fill its socket and block its server process, which
    /// holds back PostgreSQL's notification queue for the whole cluster until every notifying COMMIT fails.
    func idle() {
        guard let cache else { return }
        receiveNotifications(cache)
    }

    private func receiveNotifications(_ cache: SessionCache) {
        cache.connected(database.receiveNotifications { cache.received($0) })
    }
}

@available(*, unavailable)
extension SessionCheck: Sendable {}
