import HTTP
import Postgres
import Testing
@testable import UserService

/// Premium and administrator access: read from the user's row in the query that loads the session, so a lapse, a
/// downgrade or a revoked role holds from the next request.
@Suite struct AccessLevelTests {
    func caller(premium: Bool, admin: Bool) -> Caller {
        let example = UserRecord.example
        return Caller(user: UserRecord(
            id: example.id, email: example.email, username: example.username, fullName: nil, isActive: true, isVerified: false,
            isPremium: premium, createdAt: example.createdAt, updatedAt: example.updatedAt, lastLogin: nil, isAdmin: admin),
                      sessionID: example.id)
    }

    @Test func premiumAndAdminRoutesRefuseOthersWithTheirOwnDetail() throws {
        #expect(throws: APIError(.forbidden, "Premium subscription required")) { try Route.Access.premium.authorize(caller(premium: false, admin: true)) }
        #expect(throws: APIError(.forbidden, "Administrator privileges required")) { try Route.Access.admin.authorize(caller(premium: true, admin: false)) }
        try Route.Access.premium.authorize(caller(premium: true, admin: false))
        try Route.Access.admin.authorize(caller(premium: false, admin: true))
        try Route.Access.bearer.authorize(caller(premium: false, admin: false))
    }

    @Test func premiumLapsesAtItsExpiryInEveryAnswer() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        try service.database.query("UPDATE users SET premium_plan = 'monthly', premium_expires_at = now() + interval '1 day' WHERE id = $1", [user.id])
        var me = try #require(service.me(tokens).json)
        #expect(me["is_premium"] == true && me["premium_plan"] == "monthly" && me["premium_expires_at"]?.string != nil)
        // Moved past its expiry in the database: no job runs, and the next request sees a basic account.
        try service.database.query("UPDATE users SET premium_expires_at = now() - interval '1 second' WHERE id = $1", [user.id])
        me = try #require(service.me(tokens).json)
        #expect(me["is_premium"] == false && me["premium_plan"] == .null && me["premium_expires_at"] == .null)
    }

    /// Times the service could not read back are refused by the table (an import or a grant cannot plant one).
    @Test func timestampsStayReadable() throws {
        let service = try TestService()
        let user = try service.register()
        for statement in ["UPDATE users SET created_at = 'infinity' WHERE id = $1",
                          "UPDATE users SET premium_plan = 'yearly', premium_expires_at = '10000-01-01' WHERE id = $1"] {
            #expect(throws: PostgresError.self) { try service.database.query(statement, [user.id]) }
        }
    }
}
