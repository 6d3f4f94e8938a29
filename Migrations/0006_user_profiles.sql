-- The extended profile (GET/PUT /api/v1/users/me/profile): one row per user, created by the first PUT (an upsert);
-- a user without one is shown the defaults below. Every bound here is the bound of the field's rule in
-- `ProfileRecord.Bounds` (lengths counted as length() counts: code points), so a value the API accepts is never
-- refused here, and a value written past the API is refused all the same.
--
-- Storage: skills as text[] (the directory of the next issue filters them with && and @> through the GIN index
-- below); education and work history as jsonb arrays of {organisation, title, start_date, end_date, description}
-- (shown and exported whole, never filtered on). A partial index lists the profiles that chose to be seen.

-- Whether every item of a text list is present and 1..max_length code points long, with at most max_items items.
CREATE FUNCTION user_text_list_valid(items text[], max_items integer, max_length integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_ndims(items), 1) = 1
       AND cardinality(items) <= max_items
       AND array_position(items, NULL) IS NULL
       AND NOT EXISTS (SELECT 1 FROM unnest(items) AS item WHERE length(item) NOT BETWEEN 1 AND max_length)
$$;

-- Whether a profile's education or work history is an array of at most max_items entries, each an object with
-- only the five known keys: organisation and title (1..200 code points), start_date and end_date (YYYY-MM-DD;
-- end_date null for a current entry, else on or after start_date) and description (null or at most 2000).
CREATE FUNCTION user_profile_entries_valid(entries jsonb, max_items integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(entries) <> 'array' THEN false
                ELSE jsonb_array_length(entries) <= max_items AND NOT EXISTS (
                    SELECT 1 FROM jsonb_array_elements(entries) AS e
                    WHERE NOT coalesce(CASE WHEN jsonb_typeof(e) <> 'object' THEN false ELSE
                            e - ARRAY['organisation', 'title', 'start_date', 'end_date', 'description'] = '{}'::jsonb
                        AND length(e ->> 'organisation') BETWEEN 1 AND 200
                        AND length(e ->> 'title') BETWEEN 1 AND 200
                        AND (e ->> 'start_date') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                        AND (e ->> 'end_date' IS NULL OR ((e ->> 'end_date') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                                                          AND (e ->> 'end_date') COLLATE "C" >= (e ->> 'start_date') COLLATE "C"))
                        AND (e ->> 'description' IS NULL OR length(e ->> 'description') <= 2000)
                        END, false))
           END
$$;

CREATE TABLE user_profiles (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    headline text,
    bio text,
    skills text[] NOT NULL DEFAULT '{}',
    years_of_experience integer,
    education jsonb NOT NULL DEFAULT '[]',
    work_history jsonb NOT NULL DEFAULT '[]',
    website text,
    linkedin_url text,
    github_url text,
    portfolio_url text,
    avatar_url text,
    phone text,
    visibility text NOT NULL DEFAULT 'private',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_headline_length CHECK (length(headline) <= 200),
    CONSTRAINT user_profiles_bio_length CHECK (length(bio) <= 5000),
    CONSTRAINT user_profiles_skills_bounds CHECK (user_text_list_valid(skills, 50, 50)),
    CONSTRAINT user_profiles_years_of_experience_range CHECK (years_of_experience BETWEEN 0 AND 80),
    CONSTRAINT user_profiles_education_entries CHECK (user_profile_entries_valid(education, 20)),
    CONSTRAINT user_profiles_work_history_entries CHECK (user_profile_entries_valid(work_history, 20)),
    CONSTRAINT user_profiles_website_format CHECK (length(website) <= 2048 AND website ~* '^https?://[^/?#]'),
    CONSTRAINT user_profiles_linkedin_url_format CHECK (length(linkedin_url) <= 2048 AND linkedin_url ~* '^https?://[^/?#]'),
    CONSTRAINT user_profiles_github_url_format CHECK (length(github_url) <= 2048 AND github_url ~* '^https?://[^/?#]'),
    CONSTRAINT user_profiles_portfolio_url_format CHECK (length(portfolio_url) <= 2048 AND portfolio_url ~* '^https?://[^/?#]'),
    CONSTRAINT user_profiles_avatar_url_format CHECK (length(avatar_url) <= 2048 AND avatar_url ~* '^https?://[^/?#]'),
    -- E.164: a plus sign, then at most 15 digits, the first not zero.
    CONSTRAINT user_profiles_phone_format CHECK (phone ~ '^\+[1-9][0-9]{1,14}$'),
    CONSTRAINT user_profiles_visibility_values CHECK (visibility IN ('public', 'premium', 'private'))
);

-- The directory lists only profiles that are not private, and filters them by skill.
CREATE INDEX user_profiles_listed ON user_profiles (visibility) WHERE visibility <> 'private';
CREATE INDEX user_profiles_skills ON user_profiles USING gin (skills);
