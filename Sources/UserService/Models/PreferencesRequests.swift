import HTTP
/// The body of `PUT /api/v1/users/me/preferences`, read and described by its `init(reading:)`.

/// A partial update of the job-matching preferences, with the profile's rules: a field not sent is left as it is,
/// `null` clears it (a list to the empty list), a list sent replaces the list. `remote_preference`,
/// `willing_to_relocate`, `job_alerts` and `alert_frequency` always have a value and cannot be cleared.
/// `salary_min <= salary_max` is checked here when both are sent, and against the stored values by the database.
struct PreferencesUpdate: RequestModel {
    static let schemaName = "PreferencesUpdate"
    static let example: JSONValue? = .object([
        ("desired_titles", .array(["Backend Engineer"])), ("preferred_locations", .array(["Berlin", "Remote"])),
        ("remote_preference", "hybrid"), ("employment_types", .array(["full_time", "contract"])),
        ("salary_min", 70000), ("salary_max", 90000), ("salary_currency", "EUR"), ("salary_period", "year"),
        ("industries", .array(["Software"])), ("company_sizes", .array(["51-200", "201-500"])),
        ("willing_to_relocate", false), ("available_from", "2027-01-01"), ("job_alerts", true), ("alert_frequency", "weekly"),
    ])

    static let salaryRangeIssue = ValidationIssue(location: ["body", "salary_max"],
                                                  message: "Value error, salary_max must be greater than or equal to salary_min",
                                                  type: "value_error")

    /// The fields sent, for `PreferencesRepository.update`.
    let sent: SentFields

    init(reading body: inout FieldReader) {
        typealias Record = PreferencesRecord
        let text = FieldRule.string(maxLength: Record.Bounds.listItem, minLength: 1)
        var sent = SentFields()
        sent.add("desired_titles", body.patch("desired_titles", .list(text, maxItems: Record.Bounds.listItems)))
        sent.add("preferred_locations", body.patch("preferred_locations", .list(text, maxItems: Record.Bounds.listItems)))
        sent.add("remote_preference", body.update("remote_preference", .oneOf(Record.remotePreferences)))
        sent.add("employment_types", Self.distinct(body.patch(
            "employment_types", .list(.oneOf(Record.employmentTypes), maxItems: Record.employmentTypes.count))))
        let salaryMin = body.patch("salary_min", .integer(Record.Bounds.salary))
        let salaryMax = body.patch("salary_max", .integer(Record.Bounds.salary))
        if case .value(let low) = salaryMin, case .value(let high) = salaryMax, low > high {
            body.fail("salary_max", Self.salaryRangeIssue.message)
        }
        sent.add("salary_min", salaryMin)
        sent.add("salary_max", salaryMax)
        sent.add("salary_currency", body.patch("salary_currency", .matching(Record.currencyPattern, maxLength: 3, Self.isCurrencyCode)))
        sent.add("salary_period", body.patch("salary_period", .oneOf(Record.salaryPeriods)))
        sent.add("industries", body.patch("industries", .list(text, maxItems: Record.Bounds.listItems)))
        sent.add("company_sizes", Self.distinct(body.patch(
            "company_sizes", .list(.oneOf(Record.companySizes), maxItems: Record.companySizes.count))))
        sent.add("willing_to_relocate", body.update("willing_to_relocate", .boolean))
        sent.add("available_from", body.patch("available_from", .date))
        sent.add("job_alerts", body.update("job_alerts", .boolean))
        sent.add("alert_frequency", body.update("alert_frequency", .oneOf(Record.alertFrequencies)))
        body.refuseUndeclared()
        self.sent = sent
    }

    /// An enumeration list is a set: a value sent twice is kept once, in the order first sent.
    private static func distinct(_ patch: Patch<[String]>) -> Patch<[String]> {
        guard case .value(let values) = patch else { return patch }
        var seen: Set<String> = []
        return .value(values.filter { seen.insert($0).inserted })
    }

    /// `^[A-Z]{3}$`.
    static func isCurrencyCode(_ text: String) -> Bool {
        text.utf8.count == 3 && text.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }
}
