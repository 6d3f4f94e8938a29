import HTTP
import Testing
@testable import UserService

/// Which mailed links end with which change of the account (`OutstandingLinks`), through the `Application` against
/// the real PostgreSQL: a change of address asked for from a stolen session and password must not complete after the
/// owner took the account back, and a deactivated account keeps no link that reactivation would revive.
@Suite struct OutstandingLinksTests {
    /// A thief who holds a session and the password asks to move the account to their own address.
    struct Theft {
        let owner: TestService.User
        let thief: TestService.Tokens
        let link: String
    }

    static let thiefAddress = "thief@example.com"

    func theft(_ service: TestService) throws -> Theft {
        let (owner, thief) = try service.newUser()
        #expect(service.changeEmail(thief, to: Self.thiefAddress).status == .accepted)
        return Theft(owner: owner, thief: thief, link: try service.mailedToken(to: Self.thiefAddress, .emailVerification))
    }

    /// The thief's link no longer moves the account, which keeps its address, and the thief's address gets no reset link.
    func expectTheftFailed(_ service: TestService, _ theft: Theft, _ what: Comment) throws {
        #expect(service.verifyEmail(theft.link).text == invalidToken, what)
        #expect(try service.value("SELECT email FROM users WHERE id = $1", [theft.owner.id]) == theft.owner.email, what)
        service.requestReset(Self.thiefAddress)
        #expect(try service.mailCount(to: Self.thiefAddress, .passwordReset) == 0, what)
    }

    @Test func aPendingChangeOfAddressEndsWithAPasswordReset() throws {
        let service = try TestService()
        let theft = try theft(service)
        service.requestReset(theft.owner.email)
        #expect(service.confirmReset(try service.mailedToken(to: theft.owner.email, .passwordReset), "OwnersNewPass789").status == .ok)
        try expectTheftFailed(service, theft, "after a reset")
    }

    @Test func aPendingChangeOfAddressEndsWithAPasswordChange() throws {
        let service = try TestService()
        let theft = try theft(service)
        let owner = try service.login(theft.owner.email)
        #expect(service.changePassword(owner, current: TestService.password, new: "OwnersNewPass789").status == .ok)
        try expectTheftFailed(service, theft, "after change-password")
    }

    @Test func aPendingChangeOfAddressEndsWithLogoutAll() throws {
        let service = try TestService()
        let theft = try theft(service)
        // The account's own verification link is not the thief's doing: it stays.
        let ownLink = try service.mailedToken(to: theft.owner.email, .emailVerification)
        let owner = try service.login(theft.owner.email)
        #expect(service.request("POST", "/api/v1/auth/logout-all", token: owner.access).status == .ok)
        try expectTheftFailed(service, theft, "after logout-all")
        #expect(service.verifyEmail(ownLink).status == .ok)
    }

    @Test func aPendingChangeOfAddressEndsWhenAnAdministratorRevokesTheSessions() throws {
        let service = try TestService()
        let theft = try theft(service)
        let (admin, adminTokens) = try service.newUser()
        try service.database.query("UPDATE users SET is_admin = true WHERE id = $1", [admin.id])
        #expect(service.request("POST", "/api/v1/admin/users/\(theft.owner.id)/revoke-sessions", token: adminTokens.access).status == .ok)
        try expectTheftFailed(service, theft, "after the administrator's revoke-sessions")
        // The command line's revoke-sessions is the same method.
        let again = try self.theft(service)
        _ = try AccountAdministration(database: service.application.services.database).perform(.revokeSessions, email: again.owner.email)
        try expectTheftFailed(service, again, "after users revoke-sessions")
    }

    /// Every kind of link ends with a deactivation (through the API and the command line), and none works again after
    /// the account is reactivated.
    @Test func deactivationEndsEveryLinkAndReactivationRevivesNone() throws {
        let service = try TestService()
        let (admin, adminTokens) = try service.newUser()
        try service.database.query("UPDATE users SET is_admin = true WHERE id = $1", [admin.id])
        let administration = AccountAdministration(database: service.application.services.database)
        for throughAPI in [true, false] {
            let theft = try theft(service)
            let verification = try service.mailedToken(to: theft.owner.email, .emailVerification)
            service.requestReset(theft.owner.email)
            let reset = try service.mailedToken(to: theft.owner.email, .passwordReset)
            if throughAPI {
                #expect(service.request("POST", "/api/v1/admin/users/\(theft.owner.id)/deactivate", token: adminTokens.access).status == .ok)
                #expect(service.request("POST", "/api/v1/admin/users/\(theft.owner.id)/activate", token: adminTokens.access).status == .ok)
            } else {
                #expect(try administration.perform(.deactivate, email: theft.owner.email).changed)
                #expect(try administration.perform(.activate, email: theft.owner.email).changed)
            }
            let how: Comment = throughAPI ? "API" : "command line"
            #expect(service.confirmReset(reset, "OwnersNewPass789").text == invalidToken, how)
            #expect(service.verifyEmail(verification).text == invalidToken, how)
            try expectTheftFailed(service, theft, how)
            #expect(try service.value("SELECT is_verified::text FROM users WHERE id = $1", [theft.owner.id]) == "false", how)
            // A fresh link works as ever.
            service.requestReset(theft.owner.email)
            #expect(service.confirmReset(try service.mailedToken(to: theft.owner.email, .passwordReset), "OwnersNewPass789").status == .ok, how)
        }
    }

    /// Ending links touches only the account's own.
    @Test func anotherAccountsLinksStay() throws {
        let service = try TestService()
        let theft = try theft(service)
        let (other, otherTokens) = try service.newUser()
        #expect(service.changeEmail(otherTokens, to: "elsewhere@example.com").status == .accepted)
        service.requestReset(other.email)
        let owner = try service.login(theft.owner.email)
        #expect(service.request("POST", "/api/v1/auth/logout-all", token: owner.access).status == .ok)
        #expect(service.changePassword(try service.login(theft.owner.email), current: TestService.password, new: "OwnersNewPass789").status == .ok)
        #expect(try service.count("SELECT count(*) FROM email_verifications WHERE user_id = $1 AND revoked_at IS NULL", [other.id]) == 2)
        #expect(service.confirmReset(try service.mailedToken(to: other.email, .passwordReset), "OthersNewPass789").status == .ok)
    }
}
