import Postgres

/// A user's job-matching preferences as stored in `user_preferences`, or the defaults for a user without a row.
/// Read from the columns `PreferencesRecord.columns` lists. The export of a later issue reads it through
/// `PreferencesRepository.find(userID:)`.
struct PreferencesRecord: Equatable, Sendable {
    /// The bounds and enumerations of every field: the request rules use them, and
    /// `Migrations/0007_user_preferences.sql` checks the same (lengths in code points).
    enum Bounds {
        static let listItems = 20
        static let listItem = 100
        static let salary = 0...1_000_000_000_000
    }

    static let remotePreferences = ["remote", "hybrid", "onsite", "any"]
    static let employmentTypes = ["full_time", "part_time", "contract", "internship", "temporary"]
    static let companySizes = ["1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001+"]
    static let salaryPeriods = ["hour", "day", "week", "month", "year"]
    static let alertFrequencies = ["daily", "weekly", "monthly"]
    /// ISO 4217's form: three upper-case letters (not a fixed list: the list changes, the form does not).
    static let currencyPattern = "^[A-Z]{3}$"

    var desiredTitles: [String]
    var preferredLocations: [String]
    var remotePreference: String
    var employmentTypes: [String]
    var salaryMin: Int?
    var salaryMax: Int?
    var salaryCurrency: String?
    var salaryPeriod: String?
    var industries: [String]
    var companySizes: [String]
    var willingToRelocate: Bool
    /// `YYYY-MM-DD`.
    var availableFrom: String?
    var jobAlerts: Bool
    var alertFrequency: String
    /// nil while the user has no row (the defaults are shown).
    var createdAt: PostgresTimestamp?
    var updatedAt: PostgresTimestamp?

    /// The preferences of a user who never saved any.
    static let empty = PreferencesRecord(
        desiredTitles: [], preferredLocations: [], remotePreference: "any", employmentTypes: [], salaryMin: nil, salaryMax: nil,
        salaryCurrency: nil, salaryPeriod: nil, industries: [], companySizes: [], willingToRelocate: false, availableFrom: nil,
        jobAlerts: false, alertFrequency: "weekly", createdAt: nil, updatedAt: nil)

    /// The select list of every preferences query, on the table's alias `r`: lists come as JSON text.
    static let columns = """
        to_jsonb(r.desired_titles)::text, to_jsonb(r.preferred_locations)::text, r.remote_preference, \
        to_jsonb(r.employment_types)::text, r.salary_min, r.salary_max, r.salary_currency, r.salary_period, \
        to_jsonb(r.industries)::text, to_jsonb(r.company_sizes)::text, r.willing_to_relocate, \
        to_char(r.available_from, 'YYYY-MM-DD'), r.job_alerts, r.alert_frequency, r.created_at, r.updated_at
        """

    init(desiredTitles: [String], preferredLocations: [String], remotePreference: String, employmentTypes: [String],
         salaryMin: Int?, salaryMax: Int?, salaryCurrency: String?, salaryPeriod: String?, industries: [String],
         companySizes: [String], willingToRelocate: Bool, availableFrom: String?, jobAlerts: Bool, alertFrequency: String,
         createdAt: PostgresTimestamp?, updatedAt: PostgresTimestamp?) {
        self.desiredTitles = desiredTitles
        self.preferredLocations = preferredLocations
        self.remotePreference = remotePreference
        self.employmentTypes = employmentTypes
        self.salaryMin = salaryMin
        self.salaryMax = salaryMax
        self.salaryCurrency = salaryCurrency
        self.salaryPeriod = salaryPeriod
        self.industries = industries
        self.companySizes = companySizes
        self.willingToRelocate = willingToRelocate
        self.availableFrom = availableFrom
        self.jobAlerts = jobAlerts
        self.alertFrequency = alertFrequency
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    init(_ row: PostgresRow) throws {
        desiredTitles = try StoredJSON.strings(row.requiredString(0))
        preferredLocations = try StoredJSON.strings(row.requiredString(1))
        remotePreference = try row.requiredString(2)
        employmentTypes = try StoredJSON.strings(row.requiredString(3))
        salaryMin = try row.int(4)
        salaryMax = try row.int(5)
        salaryCurrency = row.string(6)
        salaryPeriod = row.string(7)
        industries = try StoredJSON.strings(row.requiredString(8))
        companySizes = try StoredJSON.strings(row.requiredString(9))
        willingToRelocate = try row.bool(10) ?? false
        availableFrom = row.string(11)
        jobAlerts = try row.bool(12) ?? false
        alertFrequency = try row.requiredString(13)
        createdAt = try row.timestamp(14)
        updatedAt = try row.timestamp(15)
    }

    /// Preferences to describe `PreferencesResponse` with and to show in the document.
    static let example = PreferencesRecord(
        desiredTitles: ["Backend Engineer"], preferredLocations: ["Berlin"], remotePreference: "hybrid",
        employmentTypes: ["full_time"], salaryMin: 70000, salaryMax: 90000, salaryCurrency: "EUR", salaryPeriod: "year",
        industries: ["Software"], companySizes: ["51-200", "201-500"], willingToRelocate: false, availableFrom: "2027-01-01",
        jobAlerts: true, alertFrequency: "weekly", createdAt: PostgresTimestamp(microsecondsSinceEpoch: 0),
        updatedAt: PostgresTimestamp(microsecondsSinceEpoch: 0))
}
