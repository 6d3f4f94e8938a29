import HTTP
/// The body of `PUT /api/v1/users/me/profile`, read and described by its `init(reading:)`.

/// A partial update of the extended profile: a field not sent is left as it is, `null` clears it (a list to the
/// empty list), a list sent replaces the list. `visibility` cannot be cleared.
struct ProfileUpdate: RequestModel {
    static let schemaName = "ProfileUpdate"
    static let example: JSONValue? = .object([
        ("headline", "Senior backend engineer"), ("bio", "Ten years of building APIs."), ("skills", .array(["Swift", "PostgreSQL"])),
        ("years_of_experience", 10),
        ("work_history", .array([.object([("organisation", "Example Corp"), ("title", "Backend Engineer"),
                                          ("start_date", "2014-09-01"), ("end_date", nil), ("description", "APIs and databases.")])])),
        ("github_url", "https://github.com/example"), ("phone", "+14155550123"), ("visibility", "public"),
    ])

    /// The fields sent, for `ProfileRepository.update`.
    let sent: SentFields

    init(reading body: inout FieldReader) {
        typealias Bounds = ProfileRecord.Bounds
        var sent = SentFields()
        sent.add("headline", body.patch("headline", .string(maxLength: Bounds.headline)).emptyCleared)
        sent.add("bio", body.patch("bio", .string(maxLength: Bounds.bio)).emptyCleared)
        sent.add("skills", body.patch("skills", .list(.string(maxLength: Bounds.skill, minLength: 1), maxItems: Bounds.skills)))
        sent.add("years_of_experience", body.patch("years_of_experience", .integer(Bounds.yearsOfExperience)))
        for field in ["education", "work_history"] {
            sent.add(field, body.patch(field, .list(.object(ProfileEntryInput.self), maxItems: Bounds.entries)), cleared: .array([])) {
                .array($0.map(\.entry.json))
            }
        }
        for field in ["website", "linkedin_url", "github_url", "portfolio_url", "avatar_url"] {
            sent.add(field, body.patch(field, .httpURL(maxLength: Bounds.url)))
        }
        sent.add("phone", body.patch("phone", .matching(ProfileRecord.phonePattern, maxLength: Bounds.phone, Self.isE164)))
        sent.add("visibility", body.update("visibility", .oneOf(ProfileRecord.visibilities)))
        body.refuseUndeclared()
        self.sent = sent
    }

    /// `^\+[1-9][0-9]{1,14}$`.
    static func isE164(_ text: String) -> Bool {
        let digits = text.utf8.dropFirst()
        return text.utf8.first == UInt8(ascii: "+") && (2...15).contains(digits.count)
            && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } && digits.first != UInt8(ascii: "0")
    }
}

/// One entry of the education or the work history: `end_date` null for a current one, else on or after `start_date`.
struct ProfileEntryInput: RequestModel {
    static let schemaName = "ProfileEntryInput"
    let entry: ProfileEntry

    init(reading body: inout FieldReader) {
        typealias Bounds = ProfileRecord.Bounds
        let organisation = body.required("organisation", .string(maxLength: Bounds.organisation, minLength: 1), placeholder: "")
        let title = body.required("title", .string(maxLength: Bounds.title, minLength: 1), placeholder: "")
        let start = body.required("start_date", .date, placeholder: "")
        let end = body.optional("end_date", .date)
        let description = body.optional("description", .string(maxLength: Bounds.description)).flatMap { $0.isEmpty ? nil : $0 }
        // Both `YYYY-MM-DD` with four-digit years: compared as text, they compare as dates.
        if body.wasRead("start_date"), let end, end < start {
            body.fail("end_date", "Value error, end_date must be on or after start_date")
        }
        entry = ProfileEntry(organisation: organisation, title: title, startDate: start, endDate: end, description: description)
    }
}
