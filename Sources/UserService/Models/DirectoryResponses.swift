import HTTP
/// The answers of the directory: another user's public view, whole (`GET /api/v1/users/{user_id}`) or in parts
/// (`/profile`, `/preferences`), and a page of search results. Only the fields written here ever leave the
/// database for another user (`DirectoryRepository` selects no others): never the email, phone, salary,
/// notification settings, sessions, login times, flags or timestamps.

/// The profile's public part.
struct PublicProfileResponse: ResponseModel {
    static let schemaName = "PublicProfile"
    static let example = PublicProfileResponse(.example)
    let profile: PublicProfile

    init(_ profile: PublicProfile) { self.profile = profile }

    func write(to object: inout FieldWriter) {
        object.field("headline", profile.headline)
        object.field("bio", profile.bio)
        object.field("skills", profile.skills)
        object.field("years_of_experience", profile.yearsOfExperience)
        object.field("education", profile.education.map(ProfileEntryResponse.init))
        object.field("work_history", profile.workHistory.map(ProfileEntryResponse.init))
        object.field("website", profile.website, format: "uri")
        object.field("linkedin_url", profile.linkedinURL, format: "uri")
        object.field("github_url", profile.githubURL, format: "uri")
        object.field("portfolio_url", profile.portfolioURL, format: "uri")
        object.field("avatar_url", profile.avatarURL, format: "uri")
    }
}

/// The job-matching preferences' public part.
struct PublicPreferencesResponse: ResponseModel {
    static let schemaName = "PublicPreferences"
    static let example = PublicPreferencesResponse(.example)
    let preferences: PublicPreferences

    init(_ preferences: PublicPreferences) { self.preferences = preferences }

    func write(to object: inout FieldWriter) {
        object.field("desired_titles", preferences.desiredTitles)
        object.field("preferred_locations", preferences.preferredLocations)
        object.field("remote_preference", preferences.remotePreference)
        object.field("employment_types", preferences.employmentTypes)
        object.field("willing_to_relocate", preferences.willingToRelocate)
        object.field("available_from", preferences.availableFrom, format: "date")
    }
}

/// `GET /api/v1/users/{user_id}`: the user's public view with its profile and preferences.
struct PublicUserResponse: ResponseModel {
    static let schemaName = "PublicUser"
    static let example = PublicUserResponse(.example)
    let user: PublicUser

    init(_ user: PublicUser) { self.user = user }

    func write(to object: inout FieldWriter) {
        object.field("id", user.id, format: "uuid")
        object.field("username", user.username)
        object.field("full_name", user.fullName)
        object.field("current_title", user.currentTitle)
        object.field("location", user.location)
        object.field("profile", PublicProfileResponse(user.profile))
        object.field("preferences", PublicPreferencesResponse(user.preferences))
    }
}

/// One search result: enough to choose whom to look up.
struct DirectoryEntryResponse: ResponseModel {
    static let schemaName = "DirectoryEntry"
    static let example = DirectoryEntryResponse(.example)
    let entry: DirectoryEntry

    init(_ entry: DirectoryEntry) { self.entry = entry }

    func write(to object: inout FieldWriter) {
        object.field("id", entry.id, format: "uuid")
        object.field("username", entry.username)
        object.field("full_name", entry.fullName)
        object.field("current_title", entry.currentTitle)
        object.field("location", entry.location)
        object.field("headline", entry.headline)
        object.field("skills", entry.skills)
        object.field("years_of_experience", entry.yearsOfExperience)
        object.field("remote_preference", entry.remotePreference)
        object.field("avatar_url", entry.avatarURL, format: "uri")
    }
}

/// `GET /db/directory/plans` (private): the plan PostgreSQL chooses for a search's statement, for `make bench`
/// and the scale test. Structure and estimates only: no row's values.
struct DirectoryPlanResponse: ResponseModel {
    static let schemaName = "DirectoryPlan"
    static let example = DirectoryPlanResponse(shape: "q", plan: ["Limit  (cost=...)"])
    /// Which filters were sent, e.g. `q+skills` (`all` for none).
    let shape: String
    let plan: [String]

    func write(to object: inout FieldWriter) {
        object.field("shape", shape)
        object.field("plan", plan)
    }
}
