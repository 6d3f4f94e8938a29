import HTTP
import Postgres

/// A user's extended profile as stored in `user_profiles`, or the defaults for a user without a row. Read from the
/// columns `ProfileRecord.columns` lists. Handlers answer it whole; the stats and the export of later issues read it
/// through `ProfileRepository.find(userID:)` and `completeness`. The fields anyone it is shown to may see are its
/// `shown` part, the same `PublicProfile` that another user's public view holds; the owner's alone are beside it.
struct ProfileRecord: Equatable, Sendable {
    /// The bounds of every field: the request rules use them, and `Migrations/0006_user_profiles.sql` checks the
    /// same numbers (lengths in code points).
    enum Bounds {
        static let headline = 200
        static let bio = 5000
        static let skills = 50
        static let skill = 50
        static let yearsOfExperience = 0...80
        static let entries = 20
        static let organisation = 200
        static let title = 200
        static let description = 2000
        static let url = 2048
        static let phone = 16
    }

    static let visibilities = ["public", "premium", "private"]
    static let defaultVisibility = "private"
    /// E.164: a plus sign, then at most 15 digits, the first not zero.
    static let phonePattern = #"^\+[1-9][0-9]{1,14}$"#

    var shown: PublicProfile
    var phone: String?
    var visibility: String
    /// nil while the user has no row (the defaults are shown).
    var createdAt: PostgresTimestamp?
    var updatedAt: PostgresTimestamp?

    /// The profile of a user who never saved one.
    static let empty = ProfileRecord(
        shown: PublicProfile(headline: nil, bio: nil, skills: [], yearsOfExperience: nil, education: [], workHistory: [],
                             website: nil, linkedinURL: nil, githubURL: nil, portfolioURL: nil, avatarURL: nil),
        phone: nil, visibility: defaultVisibility, createdAt: nil, updatedAt: nil)

    /// The select list of every profile query, on the table's alias `p`: the shown part's columns, then the owner's.
    static let columns = "\(PublicProfile.columns), p.phone, p.visibility, p.created_at, p.updated_at"

    init(shown: PublicProfile, phone: String?, visibility: String, createdAt: PostgresTimestamp?, updatedAt: PostgresTimestamp?) {
        self.shown = shown
        self.phone = phone
        self.visibility = visibility
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    init(_ row: PostgresRow) throws {
        shown = try PublicProfile(row, offset: 0)
        let next = PublicProfile.columnCount
        phone = row.string(next)
        visibility = try row.requiredString(next + 1)
        createdAt = try row.timestamp(next + 2)
        updatedAt = try row.timestamp(next + 3)
    }

    /// The fields that count towards completeness, by their API names, with whether each is filled (a list with
    /// an item, a string that is not empty). `visibility` always has a value and does not count.
    var filledFields: [(name: String, filled: Bool)] {
        func has(_ text: String?) -> Bool { !(text ?? "").isEmpty }
        return [
            ("headline", has(shown.headline)), ("bio", has(shown.bio)), ("skills", !shown.skills.isEmpty),
            ("years_of_experience", shown.yearsOfExperience != nil), ("education", !shown.education.isEmpty),
            ("work_history", !shown.workHistory.isEmpty), ("website", has(shown.website)),
            ("linkedin_url", has(shown.linkedinURL)), ("github_url", has(shown.githubURL)),
            ("portfolio_url", has(shown.portfolioURL)), ("avatar_url", has(shown.avatarURL)), ("phone", has(phone)),
        ]
    }

    /// How complete the profile is: the missing fields by name, in the answer's order, and the share filled.
    var completeness: ProfileCompleteness { ProfileCompleteness(filledFields) }

    /// A profile to describe `ProfileResponse` with and to show in the document.
    static let example = ProfileRecord(
        shown: PublicProfile(
            headline: "Senior backend engineer", bio: "Ten years of building APIs.", skills: ["Swift", "PostgreSQL"],
            yearsOfExperience: 10, education: [.exampleEducation], workHistory: [.exampleWork], website: "https://example.com",
            linkedinURL: "https://www.linkedin.com/in/example", githubURL: "https://github.com/example", portfolioURL: nil,
            avatarURL: nil),
        phone: "+14155550123", visibility: "public", createdAt: PostgresTimestamp(microsecondsSinceEpoch: 0),
        updatedAt: PostgresTimestamp(microsecondsSinceEpoch: 0))
}

/// Which profile fields are missing (`ProfileRecord.completeness`), for the stats endpoint.
struct ProfileCompleteness: Equatable, Sendable {
    let missingFields: [String]
    /// Whole percent of the counted fields that are filled, rounded down.
    let percentage: Int

    init(missingFields: [String], percentage: Int) {
        self.missingFields = missingFields
        self.percentage = percentage
    }

    /// The missing ones of `fields` by name, in order, and the share filled.
    init(_ fields: [(name: String, filled: Bool)]) {
        missingFields = fields.filter { !$0.filled }.map(\.name)
        percentage = fields.isEmpty ? 100 : (fields.count - missingFields.count) * 100 / fields.count
    }
}

/// One entry of a profile's education or work history; stored in a jsonb array with these keys.
struct ProfileEntry: Equatable, Sendable {
    let organisation: String
    let title: String
    /// `YYYY-MM-DD`.
    let startDate: String
    /// nil for a current entry; otherwise on or after `startDate`.
    let endDate: String?
    let description: String?

    /// As stored (and as sent to the upsert).
    var json: JSONValue {
        .object([("organisation", .string(organisation)), ("title", .string(title)), ("start_date", .string(startDate)),
                 ("end_date", .optional(endDate)), ("description", .optional(description))])
    }

    init(organisation: String, title: String, startDate: String, endDate: String?, description: String?) {
        self.organisation = organisation
        self.title = title
        self.startDate = startDate
        self.endDate = endDate
        self.description = description
    }

    /// The entries of a stored jsonb array.
    static func list(_ text: String) throws(PostgresError) -> [ProfileEntry] {
        guard case .array(let items) = try StoredJSON.parse(text) else { throw PostgresError(kind: .decoding) }
        return try items.map { item throws(PostgresError) in
            guard case .string(let organisation)? = item["organisation"], case .string(let title)? = item["title"],
                  case .string(let start)? = item["start_date"] else { throw PostgresError(kind: .decoding) }
            return ProfileEntry(organisation: organisation, title: title, startDate: start,
                                endDate: StoredJSON.optionalString(item["end_date"]), description: StoredJSON.optionalString(item["description"]))
        }
    }

    static let exampleEducation = ProfileEntry(organisation: "Example University", title: "BSc Computer Science",
                                               startDate: "2010-09-01", endDate: "2014-06-30", description: nil)
    static let exampleWork = ProfileEntry(organisation: "Example Corp", title: "Backend Engineer", startDate: "2014-09-01",
                                          endDate: nil, description: "APIs and databases.")
}
