import HTTP
/// The query of `GET /api/v1/users/search` and the path of `GET /api/v1/users/{user_id}[/profile|/preferences]`.

/// `?q=&location=&skills=&remote=&min_experience=&limit=&offset=`: every filter sent applies (AND).
struct DirectorySearchQuery: QueryModel, Equatable {
    /// Words matched against name, username, title, headline, skills and location, ranked by relevance: from three
    /// characters by prefix, shorter ones whole; the first 8 count (`directory_tsquery`, Migrations/0022).
    var q: String?
    /// Words matched as `q`'s, against the location only.
    var location: String?
    /// Every one of these skills (any letter case).
    var skills: [String]
    /// `remote`, `hybrid` or `onsite`: users who prefer it or said `any`.
    var remote: String?
    var minExperience: Int?
    var limit: Int
    var offset: Int

    static let remoteValues = ["remote", "hybrid", "onsite"]

    init(q: String? = nil, location: String? = nil, skills: [String] = [], remote: String? = nil, minExperience: Int? = nil,
         limit: Int = 20, offset: Int = 0) {
        self.q = q
        self.location = location
        self.skills = skills
        self.remote = remote
        self.minExperience = minExperience
        self.limit = limit
        self.offset = offset
    }

    init(reading query: inout QueryReader) {
        q = query.string("q", maxLength: 200)
        location = query.string("location", maxLength: 100)
        skills = query.list("skills", maxItems: 10, maxLength: ProfileRecord.Bounds.skill)
        remote = query.choice("remote", Self.remoteValues)
        minExperience = query.optionalInteger("min_experience", range: ProfileRecord.Bounds.yearsOfExperience)
        limit = query.integer("limit", default: 20, range: 1...100)
        // The directory lists at most the first `cap` matches of any search (`DirectoryRepository.cap`).
        offset = query.integer("offset", default: 0, range: 0...DirectoryRepository.cap)
    }
}

/// `{user_id}`: a UUID, or a 422 at `["path", "user_id"]`.
struct UserIDPath: PathModel {
    let userID: String

    init(reading path: inout PathReader) { userID = path.uuid("user_id") }
}
