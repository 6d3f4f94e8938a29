import Postgres

/// The SQL for job-matching preferences (`user_preferences`).
struct PreferencesRepository {
    let database: Database

    static let byUser = PreparedStatement("preferences_by_user", "SELECT \(PreferencesRecord.columns) FROM user_preferences r WHERE r.user_id = $1")

    /// The user's preferences, or nil when the user never saved any (`PreferencesRecord.empty` is shown then).
    func find(userID: String) throws -> PreferencesRecord? {
        try database.withConnection(retry: true) { connection in
            try connection.query(Self.byUser, [userID]).first.map(PreferencesRecord.init)
        }
    }

    /// One statement whatever was sent, as `ProfileRepository.upsert`. The row's CHECK `salary_min <= salary_max`
    /// compares the row being written — a sent end against the stored other one, under the row's lock — and its
    /// violation is answered as a 422 (`ConstraintErrors`).
    static let upsert = PreparedStatement("preferences_upsert", """
        INSERT INTO user_preferences AS r (user_id, desired_titles, preferred_locations, remote_preference, employment_types,
                                           salary_min, salary_max, salary_currency, salary_period, industries, company_sizes,
                                           willing_to_relocate, available_from, job_alerts, alert_frequency)
        SELECT $1::uuid, ARRAY(SELECT jsonb_array_elements_text(coalesce(s -> 'desired_titles', '[]'))),
               ARRAY(SELECT jsonb_array_elements_text(coalesce(s -> 'preferred_locations', '[]'))),
               coalesce(s ->> 'remote_preference', 'any'),
               ARRAY(SELECT jsonb_array_elements_text(coalesce(s -> 'employment_types', '[]'))),
               (s ->> 'salary_min')::bigint, (s ->> 'salary_max')::bigint, s ->> 'salary_currency', s ->> 'salary_period',
               ARRAY(SELECT jsonb_array_elements_text(coalesce(s -> 'industries', '[]'))),
               ARRAY(SELECT jsonb_array_elements_text(coalesce(s -> 'company_sizes', '[]'))),
               coalesce((s ->> 'willing_to_relocate')::boolean, false), (s ->> 'available_from')::date,
               coalesce((s ->> 'job_alerts')::boolean, false), coalesce(s ->> 'alert_frequency', 'weekly')
        FROM (SELECT $2::jsonb AS s) AS sent
        ON CONFLICT (user_id) DO UPDATE SET
            desired_titles = CASE WHEN $2::jsonb ? 'desired_titles' THEN excluded.desired_titles ELSE r.desired_titles END,
            preferred_locations = CASE WHEN $2::jsonb ? 'preferred_locations' THEN excluded.preferred_locations ELSE r.preferred_locations END,
            remote_preference = CASE WHEN $2::jsonb ? 'remote_preference' THEN excluded.remote_preference ELSE r.remote_preference END,
            employment_types = CASE WHEN $2::jsonb ? 'employment_types' THEN excluded.employment_types ELSE r.employment_types END,
            salary_min = CASE WHEN $2::jsonb ? 'salary_min' THEN excluded.salary_min ELSE r.salary_min END,
            salary_max = CASE WHEN $2::jsonb ? 'salary_max' THEN excluded.salary_max ELSE r.salary_max END,
            salary_currency = CASE WHEN $2::jsonb ? 'salary_currency' THEN excluded.salary_currency ELSE r.salary_currency END,
            salary_period = CASE WHEN $2::jsonb ? 'salary_period' THEN excluded.salary_period ELSE r.salary_period END,
            industries = CASE WHEN $2::jsonb ? 'industries' THEN excluded.industries ELSE r.industries END,
            company_sizes = CASE WHEN $2::jsonb ? 'company_sizes' THEN excluded.company_sizes ELSE r.company_sizes END,
            willing_to_relocate = CASE WHEN $2::jsonb ? 'willing_to_relocate' THEN excluded.willing_to_relocate ELSE r.willing_to_relocate END,
            available_from = CASE WHEN $2::jsonb ? 'available_from' THEN excluded.available_from ELSE r.available_from END,
            job_alerts = CASE WHEN $2::jsonb ? 'job_alerts' THEN excluded.job_alerts ELSE r.job_alerts END,
            alert_frequency = CASE WHEN $2::jsonb ? 'alert_frequency' THEN excluded.alert_frequency ELSE r.alert_frequency END,
            updated_at = now()
        RETURNING \(PreferencesRecord.columns)
        """)

    /// Applies a partial update (creating the row on the first one) and returns the whole preferences.
    func update(userID: String, _ sent: SentFields) throws -> PreferencesRecord {
        try database.withConnection { connection in
            guard let row = try connection.query(Self.upsert, [userID, sent.json.text]).first else { throw PostgresError(kind: .decoding) }
            return try PreferencesRecord(row)
        }
    }
}
