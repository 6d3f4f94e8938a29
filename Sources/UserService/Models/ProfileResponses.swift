import HTTP
/// The answer of `GET`/`PUT /api/v1/users/me/profile`, written and described by its `write(to:)`.

/// The whole extended profile; the defaults (and null timestamps) for a user who never saved one.
struct ProfileResponse: ResponseModel {
    static let schemaName = "Profile"
    static let example = ProfileResponse(.example)
    let profile: ProfileRecord

    init(_ profile: ProfileRecord) { self.profile = profile }

    func write(to object: inout FieldWriter) {
        PublicProfileResponse(profile.shown).write(to: &object)
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
