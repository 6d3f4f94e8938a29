import Postgres

/// What another user may see of a profile (`PublicProfileResponse`): never the phone, the visibility or timestamps.
/// The owner's whole profile (`ProfileRecord`) holds it as its `shown` part.
struct PublicProfile: Equatable, Sendable {
    var headline: String?
    var bio: String?
    var skills: [String]
    var yearsOfExperience: Int?
    var education: [ProfileEntry]
    var workHistory: [ProfileEntry]
    var website: String?
    var linkedinURL: String?
    var githubURL: String?
    var portfolioURL: String?
    var avatarURL: String?

    /// The select list, on the alias `p` (`columnCount` columns): lists come as JSON text.
    static let columns = """
        p.headline, p.bio, to_jsonb(p.skills)::text, p.years_of_experience, p.education::text, p.work_history::text, \
        p.website, p.linkedin_url, p.github_url, p.portfolio_url, p.avatar_url
        """
    static let columnCount = 11

    static let example = ProfileRecord.example.shown
}

extension PublicProfile {
    init(_ row: PostgresRow, offset: Int) throws {
        headline = row.string(offset)
        bio = row.string(offset + 1)
        skills = try StoredJSON.strings(row.requiredString(offset + 2))
        yearsOfExperience = try row.int(offset + 3)
        education = try ProfileEntry.list(row.requiredString(offset + 4))
        workHistory = try ProfileEntry.list(row.requiredString(offset + 5))
        website = row.string(offset + 6)
        linkedinURL = row.string(offset + 7)
        githubURL = row.string(offset + 8)
        portfolioURL = row.string(offset + 9)
        avatarURL = row.string(offset + 10)
    }
}

/// What another user may see of job-matching preferences (`PublicPreferencesResponse`): never the salary, the
/// industries and company sizes, or the alert settings. The defaults for a user who never saved any.
struct PublicPreferences: Equatable, Sendable {
    var desiredTitles: [String]
    var preferredLocations: [String]
    var remotePreference: String
    var employmentTypes: [String]
    var willingToRelocate: Bool
    /// `YYYY-MM-DD`: the availability.
    var availableFrom: String?

    /// The select list, on the alias `r` of a LEFT JOIN (6 columns): a missing row reads as the defaults.
    static let columns = """
        to_jsonb(coalesce(r.desired_titles, '{}'::text[]))::text, to_jsonb(coalesce(r.preferred_locations, '{}'::text[]))::text, \
        coalesce(r.remote_preference, 'any'), to_jsonb(coalesce(r.employment_types, '{}'::text[]))::text, \
        coalesce(r.willing_to_relocate, false), to_char(r.available_from, 'YYYY-MM-DD')
        """

    init(_ row: PostgresRow, offset: Int) throws {
        desiredTitles = try StoredJSON.strings(row.requiredString(offset))
        preferredLocations = try StoredJSON.strings(row.requiredString(offset + 1))
        remotePreference = try row.requiredString(offset + 2)
        employmentTypes = try StoredJSON.strings(row.requiredString(offset + 3))
        willingToRelocate = try row.bool(offset + 4) ?? false
        availableFrom = row.string(offset + 5)
    }

    init(_ record: PreferencesRecord) {
        desiredTitles = record.desiredTitles
        preferredLocations = record.preferredLocations
        remotePreference = record.remotePreference
        employmentTypes = record.employmentTypes
        willingToRelocate = record.willingToRelocate
        availableFrom = record.availableFrom
    }

    static let example = PublicPreferences(.example)
}

/// Another user's public view: the account's public fields, the profile's and the preferences' public parts.
struct PublicUser: Equatable, Sendable {
    let id: String
    let username: String
    let fullName: String?
    let currentTitle: String?
    let location: String?
    let profile: PublicProfile
    let preferences: PublicPreferences

    static let columns = "u.id, u.username, u.full_name, u.current_title, u.location, \(PublicProfile.columns), \(PublicPreferences.columns)"

    init(id: String, username: String, fullName: String?, currentTitle: String?, location: String?, profile: PublicProfile,
         preferences: PublicPreferences) {
        self.id = id
        self.username = username
        self.fullName = fullName
        self.currentTitle = currentTitle
        self.location = location
        self.profile = profile
        self.preferences = preferences
    }

    init(_ row: PostgresRow) throws {
        id = try row.requiredString(0)
        username = try row.requiredString(1)
        fullName = row.string(2)
        currentTitle = row.string(3)
        location = row.string(4)
        profile = try PublicProfile(row, offset: 5)
        preferences = try PublicPreferences(row, offset: 5 + PublicProfile.columnCount)
    }

    static let example = PublicUser(
        id: "00000000-0000-0000-0000-000000000000", username: "jdoe", fullName: "Jane Doe", currentTitle: "Backend Engineer",
        location: "Berlin", profile: .example, preferences: .example)
}

/// One search result (`DirectoryEntryResponse`).
struct DirectoryEntry: Equatable, Sendable {
    let id: String
    let username: String
    let fullName: String?
    let currentTitle: String?
    let location: String?
    let headline: String?
    let skills: [String]
    let yearsOfExperience: Int?
    let remotePreference: String
    let avatarURL: String?

    /// The select list after the total (10 columns), on `u`, `p` and the LEFT JOINed `r`.
    static let columns = """
        u.id, u.username, u.full_name, u.current_title, u.location, p.headline, to_jsonb(p.skills)::text, \
        p.years_of_experience, coalesce(r.remote_preference, 'any'), p.avatar_url
        """

    init(id: String, username: String, fullName: String?, currentTitle: String?, location: String?, headline: String?,
         skills: [String], yearsOfExperience: Int?, remotePreference: String, avatarURL: String?) {
        self.id = id
        self.username = username
        self.fullName = fullName
        self.currentTitle = currentTitle
        self.location = location
        self.headline = headline
        self.skills = skills
        self.yearsOfExperience = yearsOfExperience
        self.remotePreference = remotePreference
        self.avatarURL = avatarURL
    }

    init(_ row: PostgresRow, offset: Int) throws {
        id = try row.requiredString(offset)
        username = try row.requiredString(offset + 1)
        fullName = row.string(offset + 2)
        currentTitle = row.string(offset + 3)
        location = row.string(offset + 4)
        headline = row.string(offset + 5)
        skills = try StoredJSON.strings(row.requiredString(offset + 6))
        yearsOfExperience = try row.int(offset + 7)
        remotePreference = try row.requiredString(offset + 8)
        avatarURL = row.string(offset + 9)
    }

    static let example = DirectoryEntry(
        id: "00000000-0000-0000-0000-000000000000", username: "jdoe", fullName: "Jane Doe", currentTitle: "Backend Engineer",
        location: "Berlin", headline: "Senior backend engineer", skills: ["Swift", "PostgreSQL"], yearsOfExperience: 10,
        remotePreference: "hybrid", avatarURL: nil)
}
