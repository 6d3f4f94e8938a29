import HTTP
/// The answer of `GET`/`PUT /api/v1/users/me/preferences`, written and described by its `write(to:)`.

/// The whole job-matching preferences; the defaults (and null timestamps) for a user who never saved any.
struct PreferencesResponse: ResponseModel {
    static let schemaName = "Preferences"
    static let example = PreferencesResponse(.example)
    let preferences: PreferencesRecord

    init(_ preferences: PreferencesRecord) { self.preferences = preferences }

    func write(to object: inout FieldWriter) {
        object.field("desired_titles", preferences.desiredTitles)
        object.field("preferred_locations", preferences.preferredLocations)
        object.field("remote_preference", preferences.remotePreference)
        object.field("employment_types", preferences.employmentTypes)
        object.field("salary_min", preferences.salaryMin)
        object.field("salary_max", preferences.salaryMax)
        object.field("salary_currency", preferences.salaryCurrency)
        object.field("salary_period", preferences.salaryPeriod)
        object.field("industries", preferences.industries)
        object.field("company_sizes", preferences.companySizes)
        object.field("willing_to_relocate", preferences.willingToRelocate)
        object.field("available_from", preferences.availableFrom, format: "date")
        object.field("job_alerts", preferences.jobAlerts)
        object.field("alert_frequency", preferences.alertFrequency)
        object.field("created_at", preferences.createdAt?.iso8601, format: "date-time")
        object.field("updated_at", preferences.updatedAt?.iso8601, format: "date-time")
    }
}
