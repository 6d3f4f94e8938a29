import Postgres

/// The SQL for extended profiles (`user_profiles`).
struct ProfileRepository {
    let database: Database

    static let byUser = PreparedStatement("profile_by_user", "SELECT \(ProfileRecord.columns) FROM user_profiles p WHERE p.user_id = $1")

    /// The user's profile, or nil when the user never saved one (`ProfileRecord.empty` is what is shown then).
    func find(userID: String) throws -> ProfileRecord? {
        try database.withConnection(retry: true) { connection in
            try connection.query(Self.byUser, [userID]).first.map(ProfileRecord.init)
        }
    }

    /// One statement whatever was sent: the row is created with the defaults for the fields not sent, or — under
    /// the row's lock — the fields sent replace the stored ones (`SentFields`: `$2` holds only those).
    static let upsert = PreparedStatement("profile_upsert", """
        INSERT INTO user_profiles AS p (user_id, headline, bio, skills, years_of_experience, education, work_history,
                                        website, linkedin_url, github_url, portfolio_url, avatar_url, phone, visibility)
        SELECT $1::uuid, s ->> 'headline', s ->> 'bio', ARRAY(SELECT jsonb_array_elements_text(coalesce(s -> 'skills', '[]'))),
               (s ->> 'years_of_experience')::integer, coalesce(s -> 'education', '[]'), coalesce(s -> 'work_history', '[]'),
               s ->> 'website', s ->> 'linkedin_url', s ->> 'github_url', s ->> 'portfolio_url', s ->> 'avatar_url',
               s ->> 'phone', coalesce(s ->> 'visibility', 'private')
        FROM (SELECT $2::jsonb AS s) AS sent
        ON CONFLICT (user_id) DO UPDATE SET
            headline = CASE WHEN $2::jsonb ? 'headline' THEN excluded.headline ELSE p.headline END,
            bio = CASE WHEN $2::jsonb ? 'bio' THEN excluded.bio ELSE p.bio END,
            skills = CASE WHEN $2::jsonb ? 'skills' THEN excluded.skills ELSE p.skills END,
            years_of_experience = CASE WHEN $2::jsonb ? 'years_of_experience' THEN excluded.years_of_experience ELSE p.years_of_experience END,
            education = CASE WHEN $2::jsonb ? 'education' THEN excluded.education ELSE p.education END,
            work_history = CASE WHEN $2::jsonb ? 'work_history' THEN excluded.work_history ELSE p.work_history END,
            website = CASE WHEN $2::jsonb ? 'website' THEN excluded.website ELSE p.website END,
            linkedin_url = CASE WHEN $2::jsonb ? 'linkedin_url' THEN excluded.linkedin_url ELSE p.linkedin_url END,
            github_url = CASE WHEN $2::jsonb ? 'github_url' THEN excluded.github_url ELSE p.github_url END,
            portfolio_url = CASE WHEN $2::jsonb ? 'portfolio_url' THEN excluded.portfolio_url ELSE p.portfolio_url END,
            avatar_url = CASE WHEN $2::jsonb ? 'avatar_url' THEN excluded.avatar_url ELSE p.avatar_url END,
            phone = CASE WHEN $2::jsonb ? 'phone' THEN excluded.phone ELSE p.phone END,
            visibility = CASE WHEN $2::jsonb ? 'visibility' THEN excluded.visibility ELSE p.visibility END,
            updated_at = now()
        RETURNING \(ProfileRecord.columns)
        """)

    /// Applies a partial update (creating the row on the first one) and returns the whole profile.
    func update(userID: String, _ sent: SentFields) throws -> ProfileRecord {
        try database.withConnection { connection in
            guard let row = try connection.query(Self.upsert, [userID, sent.json.text]).first else { throw PostgresError(kind: .decoding) }
            return try ProfileRecord(row)
        }
    }
}
