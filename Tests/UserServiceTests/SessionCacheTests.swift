import Metrics
import Postgres
import Testing
@testable import UserService

/// The session cache's rules as values: no database, no clock (times are handed in), the generations in a real
/// shared mapping as the pool's workers share it.
@Suite struct SessionCacheTests {
    static let second: UInt64 = 1_000_000_000
    /// A wall-clock instant (microseconds since the epoch) the tests count from.
    static let now: Int64 = 1_800_000_000_000_000

    let counters = try! SharedCounters.create(slotCount: SessionGenerations.bucketCount)
    var generations: SessionGenerations { SessionGenerations(counters: counters, base: 0) }

    func cache(lifetimeSeconds: Int = 1) -> SessionCache {
        let cache = SessionCache(lifetimeSeconds: lifetimeSeconds, generations: generations)
        cache.connected(1)
        return cache
    }

    static func user(_ id: String, premiumUntil: Int64? = nil) -> UserRecord {
        UserRecord(id: id, email: "\(id.prefix(8))@example.com", username: "u\(id.prefix(8))", fullName: nil, isActive: true,
                   isVerified: false, isPremium: premiumUntil != nil, createdAt: PostgresTimestamp(microsecondsSinceEpoch: 0),
                   updatedAt: PostgresTimestamp(microsecondsSinceEpoch: 0), lastLogin: nil,
                   premiumPlan: premiumUntil == nil ? nil : "monthly",
                   premiumExpiresAt: premiumUntil.map { PostgresTimestamp(microsecondsSinceEpoch: $0) })
    }

    static func id(_ n: Int) -> String {
        let hex = String(n, radix: 16)
        return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    /// Stores what a query found for `session` of `user`, the ticket taken just before it.
    func store(_ cache: SessionCache, _ session: String, _ user: UserRecord, sessionExpiresAt: Int64 = now + 3_600_000_000,
               at nanoseconds: UInt64 = 10 * second, connection: UInt64 = 1) {
        let ticket = cache.ticket(for: user.id)
        cache.store(SessionRepository.LiveSession(user: user, expiresAt: PostgresTimestamp(microsecondsSinceEpoch: sessionExpiresAt)),
                    sessionID: session, userID: user.id, ticket: ticket, connection: connection, nanoseconds: nanoseconds)
    }

    func lookup(_ cache: SessionCache, _ session: String, _ userID: String, at nanoseconds: UInt64 = 10 * second,
                wall: Int64 = now) -> UserRecord? {
        cache.user(sessionID: session, userID: userID, nanoseconds: nanoseconds, microsecondsSinceEpoch: wall)
    }

    func notification(_ payload: String, own: Bool = false, channel: String = SessionCache.channel) -> PostgresNotification {
        PostgresNotification(channel: channel, payload: payload, isOwn: own)
    }

    @Test func anEntryAnswersOnlyForItsOwnSessionAndUser() {
        let cache = cache()
        let alice = Self.user(Self.id(1)), bob = Self.user(Self.id(2))
        store(cache, Self.id(101), alice)
        store(cache, Self.id(102), bob)
        #expect(lookup(cache, Self.id(101), alice.id)?.id == alice.id)
        #expect(lookup(cache, Self.id(102), bob.id)?.id == bob.id)
        // A token naming Alice's session with Bob's id (or the reverse) finds nothing: both halves of the key count.
        #expect(lookup(cache, Self.id(101), bob.id) == nil)
        #expect(lookup(cache, Self.id(102), alice.id) == nil)
        #expect(lookup(cache, Self.id(103), alice.id) == nil)
    }

    @Test func anEntryLivesAtMostItsLifetime() {
        let cache = cache(lifetimeSeconds: 2)
        let alice = Self.user(Self.id(1))
        store(cache, Self.id(101), alice, at: 10 * Self.second)
        #expect(lookup(cache, Self.id(101), alice.id, at: 12 * Self.second - 1) != nil)
        #expect(lookup(cache, Self.id(101), alice.id, at: 12 * Self.second) == nil)
    }

    @Test func theSessionsExpiryAndPremiumAreComparedWithTheClockAtUse() {
        let cache = cache()
        let expiry = Self.now + 500_000
        store(cache, Self.id(101), Self.user(Self.id(1), premiumUntil: expiry), sessionExpiresAt: expiry + 1_000)
        let before = lookup(cache, Self.id(101), Self.id(1), wall: expiry - 1)
        #expect(before?.isPremium == true && before?.premiumPlan == "monthly" && before?.premiumExpiresAt != nil)
        let after = lookup(cache, Self.id(101), Self.id(1), wall: expiry)
        #expect(after?.isPremium == false && after?.premiumPlan == nil && after?.premiumExpiresAt == nil)
        #expect(lookup(cache, Self.id(101), Self.id(1), wall: expiry + 1_000) == nil)  // the session itself expired
    }

    @Test func aNotificationRemovesItsUsersEntriesAndAnOwnOneBumpsTheSharedGeneration() {
        let cache = cache()
        let alice = Self.user(Self.id(1)), bob = Self.user(Self.id(2))
        #expect(SessionGenerations.bucket(of: alice.id) != SessionGenerations.bucket(of: bob.id))
        store(cache, Self.id(101), alice)
        store(cache, Self.id(102), alice)
        store(cache, Self.id(103), bob)
        let generation = generations.current(SessionGenerations.bucket(of: alice.id))
        cache.received(notification(alice.id))
        #expect(lookup(cache, Self.id(101), alice.id) == nil && lookup(cache, Self.id(102), alice.id) == nil)
        #expect(lookup(cache, Self.id(103), bob.id) != nil)
        #expect(generations.current(SessionGenerations.bucket(of: alice.id)) == generation)  // another session's change
        cache.received(notification(bob.id, own: true))
        #expect(lookup(cache, Self.id(103), bob.id) == nil)
        #expect(generations.current(SessionGenerations.bucket(of: bob.id)) == 1)
        // Other channels are not the cache's business.
        store(cache, Self.id(103), bob)
        cache.received(notification(bob.id, channel: "mail_outbox"))
        #expect(lookup(cache, Self.id(103), bob.id) != nil)
    }

    @Test func anotherWorkersOwnChangeEndsThisWorkersEntryBeforeAnyNotification() {
        let here = cache(), there = cache()
        let alice = Self.user(Self.id(1))
        store(here, Self.id(101), alice)
        #expect(lookup(here, Self.id(101), alice.id) != nil)
        there.received(notification(alice.id.uppercased(), own: true))  // the bucket ignores letter case
        #expect(lookup(here, Self.id(101), alice.id) == nil)
    }

    @Test func aQueryThatRanBeforeABumpIsNotKept() {
        let cache = cache(), other = self.cache()
        let alice = Self.user(Self.id(1))
        // The ticket is taken before the query; a revocation through another worker commits and bumps meanwhile.
        let ticket = cache.ticket(for: alice.id)
        other.received(notification(alice.id, own: true))
        cache.store(SessionRepository.LiveSession(user: alice, expiresAt: PostgresTimestamp(microsecondsSinceEpoch: Self.now + 3_600_000_000)),
                    sessionID: Self.id(101), userID: alice.id, ticket: ticket, connection: 1, nanoseconds: 10 * Self.second)
        #expect(lookup(cache, Self.id(101), alice.id) == nil)
    }

    @Test func aNotificationTakenWhileItsUsersQueryRanEndsWhatTheQueryStores() {
        let cache = cache()
        let alice = Self.user(Self.id(1)), bob = Self.user(Self.id(2))
        let live = SessionRepository.LiveSession(user: alice, expiresAt: PostgresTimestamp(microsecondsSinceEpoch: Self.now + 3_600_000_000))
        // The user's own notification, taken between the ticket and the store (another session's change).
        var ticket = cache.ticket(for: alice.id)
        cache.received(notification(alice.id))
        cache.store(live, sessionID: Self.id(101), userID: alice.id, ticket: ticket, connection: 1, nanoseconds: 10 * Self.second)
        #expect(lookup(cache, Self.id(101), alice.id) == nil)
        // Every user's (an empty payload).
        ticket = cache.ticket(for: alice.id)
        cache.received(notification(""))
        cache.store(live, sessionID: Self.id(101), userID: alice.id, ticket: ticket, connection: 1, nanoseconds: 10 * Self.second)
        #expect(lookup(cache, Self.id(101), alice.id) == nil)
        // Another user's leaves it.
        ticket = cache.ticket(for: alice.id)
        cache.received(notification(bob.id))
        cache.store(live, sessionID: Self.id(101), userID: alice.id, ticket: ticket, connection: 1, nanoseconds: 10 * Self.second)
        #expect(lookup(cache, Self.id(101), alice.id)?.id == alice.id)
        // A notification after the store ends it too, in the same single step whatever the cache holds.
        cache.received(notification(alice.id))
        #expect(lookup(cache, Self.id(101), alice.id) == nil)
    }

    @Test func aConnectionThatClosedOrChangedEmptiesTheCacheAndNothingIsUsedWithoutOne() {
        let cache = cache()
        let alice = Self.user(Self.id(1))
        store(cache, Self.id(101), alice)
        cache.connected(1)
        #expect(lookup(cache, Self.id(101), alice.id) != nil)
        cache.connected(nil)  // found closed: nothing cached survives, and nothing is stored until one listens
        #expect(cache.count == 0)
        store(cache, Self.id(101), alice)
        #expect(lookup(cache, Self.id(101), alice.id) == nil)
        cache.connected(2)
        store(cache, Self.id(101), alice, connection: 3)  // ran on a newer connection than the one checked: not kept
        #expect(cache.count == 0)
        store(cache, Self.id(101), alice, connection: 2)
        #expect(lookup(cache, Self.id(101), alice.id) != nil)
        cache.connected(3)
        #expect(lookup(cache, Self.id(101), alice.id) == nil)
    }

    @Test func anEmptyPayloadMeansEveryUser() {
        let cache = cache(), other = self.cache()
        store(cache, Self.id(101), Self.user(Self.id(1)))
        store(other, Self.id(102), Self.user(Self.id(2)))
        cache.received(notification(""))
        #expect(cache.count == 0)
        #expect(lookup(other, Self.id(102), Self.id(2)) != nil)
        cache.received(notification("", own: true))
        #expect(lookup(other, Self.id(102), Self.id(2)) == nil)
    }

    @Test func theCacheNeverGrowsPastItsCapacity() {
        let cache = cache()
        for n in 0..<(SessionCache.capacity * 4) { store(cache, Self.id(10_000 + n), Self.user(Self.id(n))) }
        #expect(cache.count <= SessionCache.capacity)
        #expect(cache.count > SessionCache.capacity / 2)
    }
}
