-- Job-matching preferences (GET/PUT /api/v1/users/me/preferences): one row per user, created by the first PUT (an
-- upsert); a user without one is shown the defaults below. Every bound and enumeration here is the one of the
-- field's rule in `PreferencesRecord` (lengths in code points, as length() counts them).
--
-- Storage: typed columns, not one jsonb document, because the directory search of the next issue filters on them:
-- - lists (titles, locations, employment types, industries, company sizes) are text[] with a GIN index each
--   (array_ops), which serves `&&` (any of) and `@>` (all of) — a jsonb document would need `jsonb_path_ops` and
--   containment queries on a nested shape, and could not carry these CHECKs per field;
-- - the salary range is bigint with a btree on (currency, period, minimum): salaries compare only within one
--   currency and period, and a range filter then walks one slice of the index;
-- - available_from is a date with a btree (available before a day); remote_preference has four values, so an
--   index on it alone would not be selective (it is filtered together with the others).
-- salary_min <= salary_max is a CHECK on the row the upsert writes, so a value sent is compared with the stored
-- other end inside the one statement, under the row's lock: no read-modify-write race (23514 becomes a 422).
-- salary_currency is any three upper-case letters (ISO 4217's form): the code list changes over time, and a
-- pattern needs no migration when it does.
CREATE TABLE user_preferences (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    desired_titles text[] NOT NULL DEFAULT '{}',
    preferred_locations text[] NOT NULL DEFAULT '{}',
    remote_preference text NOT NULL DEFAULT 'any',
    employment_types text[] NOT NULL DEFAULT '{}',
    salary_min bigint,
    salary_max bigint,
    salary_currency text,
    salary_period text,
    industries text[] NOT NULL DEFAULT '{}',
    company_sizes text[] NOT NULL DEFAULT '{}',
    willing_to_relocate boolean NOT NULL DEFAULT false,
    available_from date,
    job_alerts boolean NOT NULL DEFAULT false,
    alert_frequency text NOT NULL DEFAULT 'weekly',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_preferences_desired_titles_bounds CHECK (user_text_list_valid(desired_titles, 20, 100)),
    CONSTRAINT user_preferences_preferred_locations_bounds CHECK (user_text_list_valid(preferred_locations, 20, 100)),
    CONSTRAINT user_preferences_industries_bounds CHECK (user_text_list_valid(industries, 20, 100)),
    CONSTRAINT user_preferences_remote_preference_values CHECK (remote_preference IN ('remote', 'hybrid', 'onsite', 'any')),
    CONSTRAINT user_preferences_employment_types_values CHECK (
        user_text_list_valid(employment_types, 5, 20)
        AND employment_types <@ ARRAY['full_time', 'part_time', 'contract', 'internship', 'temporary']),
    CONSTRAINT user_preferences_company_sizes_values CHECK (
        user_text_list_valid(company_sizes, 7, 20)
        AND company_sizes <@ ARRAY['1-10', '11-50', '51-200', '201-500', '501-1000', '1001-5000', '5001+']),
    CONSTRAINT user_preferences_salary_min_range CHECK (salary_min BETWEEN 0 AND 1000000000000),
    CONSTRAINT user_preferences_salary_max_range CHECK (salary_max BETWEEN 0 AND 1000000000000),
    CONSTRAINT user_preferences_salary_range CHECK (salary_min <= salary_max),
    CONSTRAINT user_preferences_salary_currency_format CHECK (salary_currency ~ '^[A-Z]{3}$'),
    CONSTRAINT user_preferences_salary_period_values CHECK (salary_period IN ('hour', 'day', 'week', 'month', 'year')),
    CONSTRAINT user_preferences_alert_frequency_values CHECK (alert_frequency IN ('daily', 'weekly', 'monthly'))
);

CREATE INDEX user_preferences_desired_titles ON user_preferences USING gin (desired_titles);
CREATE INDEX user_preferences_preferred_locations ON user_preferences USING gin (preferred_locations);
CREATE INDEX user_preferences_employment_types ON user_preferences USING gin (employment_types);
CREATE INDEX user_preferences_industries ON user_preferences USING gin (industries);
CREATE INDEX user_preferences_company_sizes ON user_preferences USING gin (company_sizes);
CREATE INDEX user_preferences_salary ON user_preferences (salary_currency, salary_period, salary_min);
CREATE INDEX user_preferences_available_from ON user_preferences (available_from);
