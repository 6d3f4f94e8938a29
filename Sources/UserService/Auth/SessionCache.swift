import Postgres

/// A worker's cache of session checks: what the last query said about a session of a user, used instead of a query
/// while nothing can have changed it. Pure logic: the caller hands it the times, the connection's state and the
/// notifications (`SessionCheck` does, for each request).
///
/// An entry is used only when all of these hold:
/// - the key matches: the session id and the user id of the verified token, both compared whole, so an entry never
///   answers for another session or another user;
/// - it is younger than the lifetime (`SESSION_CACHE_SECONDS`), which bounds what a lost notification can cost;
/// - its user's bucket in the shared generations has not moved since before its query ran (a change made through
///   this host's API);
/// - the worker's connection is the one that listened when it was stored: a connection that closed or was replaced
///   may have missed notifications, so any change of connection empties the cache;
/// - the session's own expiry, compared with the clock now.
/// - its user's bucket in the worker's own generations has not moved since before its query ran: a notification for
///   a user (`received`) bumps the user's bucket, which costs the same however many entries are kept, so a bulk
///   change's thousands of notifications cost a worker only as many increments.
/// Premium is recomputed from its expiry with the clock at each use, never kept as a yes or no.
///
/// The entries live in a fixed array indexed by the session id's hash (a newer entry replaces the one in its slot),
/// so the cache never grows and a lookup allocates nothing.
final class SessionCache {
    /// The channel the session check's triggers notify (`Migrations/0023_session_check_notify.sql`); the payload is
    /// the user's id, or empty for every user.
    static let channel = "session_check"
    /// Slots per worker.
    static let capacity = 1024

    struct Entry {
        let sessionID: String
        let userID: String
        let user: UserRecord
        let sessionExpiresAt: Int64
        let bucket: Int
        let generation: UInt64
        let localGeneration: UInt32
        let storedAt: UInt64
    }

    /// What the cache needs to know before a query, to store its answer afterwards: the user's bucket and that
    /// bucket's generations (shared and local) as they were before the query ran.
    struct Ticket {
        let bucket: Int
        let generation: UInt64
        let localGeneration: UInt32
    }

    private let lifetimeNanoseconds: UInt64
    private let generations: SessionGenerations
    private var slots: [Entry?]
    /// This worker's generation per bucket (as `SessionGenerations`' buckets), bumped by each notification.
    private var localGenerations: [UInt32]
    /// The number of the listening connection the entries were stored under; nil: none, nothing may be used.
    private var connection: UInt64?

    init(lifetimeSeconds: Int, generations: SessionGenerations) {
        precondition(lifetimeSeconds > 0)
        lifetimeNanoseconds = UInt64(lifetimeSeconds) * 1_000_000_000
        self.generations = generations
        slots = Array(repeating: nil, count: Self.capacity)
        localGenerations = Array(repeating: 0, count: SessionGenerations.bucketCount)
    }

    /// FNV-1a over the text's bytes with ASCII letters folded to lower case (enough for UUIDs' hex digits).
    static func hash(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 { hash = (hash ^ UInt32(byte | 0x20)) &* 16_777_619 }
        return hash
    }

    private static func slot(of sessionID: String) -> Int { Int(hash(sessionID) & UInt32(capacity - 1)) }

    /// The state of the worker's connection before this use: the number of the open connection that listens, or
    /// nil. Any change from the last one empties the cache.
    func connected(_ number: UInt64?) {
        guard number != connection else { return }
        removeAll()
        connection = number
    }

    /// The cached user of the session, if an entry may answer now (see the type's rules). `nanoseconds` is the
    /// monotonic clock, `microsecondsSinceEpoch` the wall clock.
    func user(sessionID: String, userID: String, nanoseconds: UInt64, microsecondsSinceEpoch: Int64) -> UserRecord? {
        guard connection != nil, let entry = slots[Self.slot(of: sessionID)],
              entry.sessionID == sessionID, entry.userID == userID,
              nanoseconds &- entry.storedAt < lifetimeNanoseconds,
              entry.sessionExpiresAt > microsecondsSinceEpoch,
              localGenerations[entry.bucket] == entry.localGeneration,
              generations.current(entry.bucket) == entry.generation
        else { return nil }
        return entry.user.asOf(microsecondsSinceEpoch: microsecondsSinceEpoch)
    }

    /// Taken before the query whose answer `store` keeps.
    func ticket(for userID: String) -> Ticket {
        let bucket = SessionGenerations.bucket(of: userID)
        return Ticket(bucket: bucket, generation: generations.current(bucket), localGeneration: localGenerations[bucket])
    }

    /// Keeps what a query found, if the query ran on the connection the cache knows listens (`connection`: the
    /// database's number after the query; a query on a newer connection is not kept: the next use empties the
    /// cache anyway). `nanoseconds`: the monotonic clock before the query.
    func store(_ live: SessionRepository.LiveSession, sessionID: String, userID: String, ticket: Ticket, connection number: UInt64,
               nanoseconds: UInt64) {
        guard let connection, number == connection else { return }
        slots[Self.slot(of: sessionID)] = Entry(sessionID: sessionID, userID: userID, user: live.user,
                                                sessionExpiresAt: live.expiresAt.microsecondsSinceEpoch, bucket: ticket.bucket,
                                                generation: ticket.generation, localGeneration: ticket.localGeneration,
                                                storedAt: nanoseconds)
    }

    /// A notification: the user's entries go (all of them for an empty payload), including one whose query was
    /// running when the notification came (its ticket is older). One that this worker's own
    /// transaction caused also bumps the user's bucket in the shared generations, for the other workers.
    func received(_ notification: PostgresNotification) {
        guard notification.channel == Self.channel else { return }
        guard !notification.payload.isEmpty else {
            if notification.isOwn { generations.bumpAll() }
            removeAll()
            return
        }
        let bucket = SessionGenerations.bucket(of: notification.payload)
        if notification.isOwn { generations.bump(bucket) }
        localGenerations[bucket] &+= 1
    }

    func removeAll() {
        for index in slots.indices { slots[index] = nil }
        for bucket in localGenerations.indices { localGenerations[bucket] &+= 1 }
    }

    /// How many entries are kept (for tests), whether or not they may answer.
    var count: Int { slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}

@available(*, unavailable)
extension SessionCache: Sendable {}
