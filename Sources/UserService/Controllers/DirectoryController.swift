import HTTP

/// The directory (premium only): `GET /api/v1/users/search` and another user's public view,
/// `GET /api/v1/users/{user_id}[/profile|/preferences]`. Routes are in `Routes.swift` (access `.premium`, checked
/// before these run), answers in `Models/Directory*.swift`, SQL in `DirectoryRepository`. Every request counts
/// towards the caller's `DIRECTORY_MAX_PER_MINUTE` before the directory is read.
struct DirectoryController {
    let directory: DirectoryRepository
    let limit: AccountWindowLimit

    static func tooManyRequests(retryAfter: Int) -> APIError {
        APIError(.tooManyRequests, "Too many directory requests. Try again later.", headers: [("Retry-After", String(retryAfter))])
    }

    /// Not found, whatever the reason: no such user, inactive, or not visible to the caller.
    static let notFound = APIError(.notFound, "User not found")

    private func count(_ caller: Caller) throws {
        if let wait = try limit.count(userID: caller.user.id) { throw Self.tooManyRequests(retryAfter: wait) }
    }

    func search(_ caller: Caller, _ context: RequestContext, _ query: DirectorySearchQuery) throws -> Page<DirectoryEntryResponse> {
        try count(caller)
        let found = try directory.search(query, callerIsPremium: caller.user.isPremium)
        return Page(items: found.entries.map(DirectoryEntryResponse.init), total: found.total, limit: query.limit, offset: query.offset)
    }

    /// The caller is one user among others here: their own public view is found exactly when others would find it
    /// (a preview of what the directory shows), and a private profile is a 404 for its owner too.
    private func find(_ caller: Caller, _ path: UserIDPath) throws -> PublicUser {
        try count(caller)
        guard let user = try directory.find(userID: path.userID, callerIsPremium: caller.user.isPremium) else { throw Self.notFound }
        return user
    }

    func user(_ caller: Caller, _ context: RequestContext, _ path: UserIDPath) throws -> PublicUserResponse {
        PublicUserResponse(try find(caller, path))
    }

    func profile(_ caller: Caller, _ context: RequestContext, _ path: UserIDPath) throws -> PublicProfileResponse {
        PublicProfileResponse(try find(caller, path).profile)
    }

    func preferences(_ caller: Caller, _ context: RequestContext, _ path: UserIDPath) throws -> PublicPreferencesResponse {
        PublicPreferencesResponse(try find(caller, path).preferences)
    }

    /// `GET /db/directory/plans` (private): the plan of the search these parameters make, as a premium caller's.
    func plans(_ context: RequestContext, _ query: DirectorySearchQuery) throws -> DirectoryPlanResponse {
        try directory.plan(query, callerIsPremium: true)
    }
}
