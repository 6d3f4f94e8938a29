import HTTP
/// The answer of `GET`/`PUT /api/v1/users/me/profile`, written and described by its `write(to:)`.

/// The whole extended profile; the defaults (and null timestamps) for a user who never saved one.
struct ProfileResponse: ResponseModel {
    static let schemaName = "Profile"
    static let example = ProfileResponse(.example)
    let profile: ProfileRecord

    init(_ profile: ProfileRecord) { self.profile = profile }

    func write(to object: inout FieldWriter) {
        profile.writeShownFields(to: &object)
        object.field("phone", profile.phone)
        object.field("visibility", profile.visibility)
        object.field("created_at", profile.createdAt?.iso8601, format: "date-time")
        object.field("updated_at", profile.updatedAt?.iso8601, format: "date-time")
    }
}

struct ProfileEntryResponse: ResponseModel {
    static let schemaName = "ProfileEntry"
    static let example = ProfileEntryResponse(.exampleWork)
    let entry: ProfileEntry

    init(_ entry: ProfileEntry) { self.entry = entry }

    func write(to object: inout FieldWriter) {
        object.field("organisation", entry.organisation)
        object.field("title", entry.title)
        object.field("start_date", entry.startDate, format: "date")
        object.field("end_date", entry.endDate, format: "date")
        object.field("description", entry.description)
    }
}

/// The fields of a profile that whoever it is shown to may see: the owner's whole profile (`ProfileRecord`) and
/// another user's public view of it (`PublicProfile`) write them one way.
protocol ShownProfileFields {
    var headline: String? { get }
    var bio: String? { get }
    var skills: [String] { get }
    var yearsOfExperience: Int? { get }
    var education: [ProfileEntry] { get }
    var workHistory: [ProfileEntry] { get }
    var website: String? { get }
    var linkedinURL: String? { get }
    var githubURL: String? { get }
    var portfolioURL: String? { get }
    var avatarURL: String? { get }
}

extension ShownProfileFields {
    func writeShownFields(to object: inout FieldWriter) {
        object.field("headline", headline)
        object.field("bio", bio)
        object.field("skills", skills)
        object.field("years_of_experience", yearsOfExperience)
        object.field("education", education.map(ProfileEntryResponse.init))
        object.field("work_history", workHistory.map(ProfileEntryResponse.init))
        object.field("website", website, format: "uri")
        object.field("linkedin_url", linkedinURL, format: "uri")
        object.field("github_url", githubURL, format: "uri")
        object.field("portfolio_url", portfolioURL, format: "uri")
        object.field("avatar_url", avatarURL, format: "uri")
    }
}

extension ProfileRecord: ShownProfileFields {}
extension PublicProfile: ShownProfileFields {}
