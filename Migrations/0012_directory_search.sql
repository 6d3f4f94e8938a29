-- The directory (GET /api/v1/users/search, premium only): one row per LISTED user — active, with a profile whose
-- visibility is not 'private' — holding everything a search matches, filters or orders on, kept by triggers in the
-- same transaction as the change. A search reads this table only (through its indexes) and joins the <= 100 rows of
-- the page to users, user_profiles and user_preferences by primary key: it never scans users or profiles.
--
-- Index choice: PostgreSQL full-text search (a tsvector with a GIN index), not pg_trgm, because
-- - ranking "by relevance over name, username, title, headline, skills and location" is what ts_rank_cd does with
--   weights per field (A name and username, B title and headline, C skills, D location); trigrams give a
--   similarity per string, not a ranking across fields;
-- - the location filter is the same index: its words are matched with weight D only (`'berlin':*D`);
-- - words are matched by prefix (`'eng':*` finds "engineer"), which GIN serves from the same posting lists;
-- - a tsvector GIN index is several times smaller than trigram GIN indexes over the same six fields, which matters
--   at ten million rows, and it is built in: pg_trgm is an extension (CREATE EXTENSION needs the database's
--   CREATE privilege, a per-database object outside the schema the migrations own) for substring and typo
--   matching the issue does not ask for.
-- The 'simple' configuration: names, usernames, skills and places are not English words, so no stemming and no
-- stop words (English stemming would turn "Rust" into "rust" and drop "IT").
--
-- Relevance is computed over at most `DirectoryRepository.cap` (1,000) matches found through the index, and
-- `total` is exact up to that cap (a query matching more answers total = 1000): counting, or ranking, every match of
-- a common word at ten million users would read hundreds of thousands of rows per request.

-- The prefix query for the words of `words`, each restricted to the weights `fields` ('' for any field): every word must match
-- (AND). The words are the lexemes PostgreSQL's own parser finds, quoted: no input is ever parsed as tsquery syntax.
-- NULL when `words` holds no word.
CREATE FUNCTION directory_tsquery(words text, fields text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(string_agg(quote_literal(t.lexeme) || ':*' || fields, ' & ' ORDER BY t.lexeme), '')::tsquery
    FROM unnest(to_tsvector('simple', coalesce(words, ''))) AS t
$$;

-- The skills filter's array: the JSON array of strings sent, lower-cased (as directory_entries.skills holds them).
CREATE FUNCTION directory_skills(sent jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT DISTINCT lower(s) FROM jsonb_array_elements_text(sent) AS s ORDER BY 1)
$$;

CREATE TABLE directory_entries (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- 'public' or 'premium' (private profiles are not listed): every caller of the directory is premium and sees
    -- both; kept so that a basic tier could be served by filtering on it.
    visibility text NOT NULL,
    document tsvector NOT NULL,
    -- Lower-cased, for the skills filter (all of the skills asked, any letter case).
    skills text[] NOT NULL DEFAULT '{}',
    years_of_experience integer,
    remote_preference text NOT NULL DEFAULT 'any',
    -- The order without a query: lower(username), then user_id.
    sort_name text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT directory_entries_visibility_values CHECK (visibility IN ('public', 'premium'))
);

CREATE INDEX directory_entries_document ON directory_entries USING gin (document);
CREATE INDEX directory_entries_skills ON directory_entries USING gin (skills);
CREATE INDEX directory_entries_sort_name ON directory_entries (sort_name, user_id);
CREATE INDEX directory_entries_years_of_experience ON directory_entries (years_of_experience);

-- What the directory holds, computed from the source tables: the one definition of an entry (its document's
-- fields and weights), read by the triggers for one user, by directory_rebuild() for all, and by
-- scripts/generate-population for the range of ids it loaded.
CREATE VIEW directory_listing AS
    SELECT u.id AS user_id, p.visibility,
           setweight(to_tsvector('simple', coalesce(u.full_name, '') || ' ' || u.username), 'A')
               || setweight(to_tsvector('simple', coalesce(u.current_title, '') || ' ' || coalesce(p.headline, '')), 'B')
               || setweight(to_tsvector('simple', array_to_string(p.skills, ' ')), 'C')
               || setweight(to_tsvector('simple', coalesce(u.location, '')), 'D') AS document,
           ARRAY(SELECT DISTINCT lower(s) FROM unnest(p.skills) AS s ORDER BY 1) AS skills, p.years_of_experience,
           coalesce(r.remote_preference, 'any') AS remote_preference, lower(u.username) AS sort_name
    FROM users u JOIN user_profiles p ON p.user_id = u.id LEFT JOIN user_preferences r ON r.user_id = u.id
    WHERE u.is_active AND p.visibility <> 'private';

-- Brings one user's entry up to date: written when listed, deleted otherwise.
CREATE FUNCTION directory_refresh(target uuid) RETURNS void
    LANGUAGE sql AS $$
    DELETE FROM directory_entries d WHERE d.user_id = target AND NOT EXISTS (SELECT 1 FROM directory_listing l WHERE l.user_id = target);
    INSERT INTO directory_entries AS d (user_id, visibility, document, skills, years_of_experience, remote_preference, sort_name)
    SELECT user_id, visibility, document, skills, years_of_experience, remote_preference, sort_name
    FROM directory_listing WHERE user_id = target
    ON CONFLICT (user_id) DO UPDATE SET
        visibility = excluded.visibility, document = excluded.document, skills = excluded.skills,
        years_of_experience = excluded.years_of_experience, remote_preference = excluded.remote_preference,
        sort_name = excluded.sort_name, updated_at = now();
$$;

-- The whole table again, set-based.
CREATE FUNCTION directory_rebuild() RETURNS bigint
    LANGUAGE sql AS $$
    DELETE FROM directory_entries;
    INSERT INTO directory_entries (user_id, visibility, document, skills, years_of_experience, remote_preference, sort_name)
    SELECT user_id, visibility, document, skills, years_of_experience, remote_preference, sort_name FROM directory_listing;
    SELECT count(*) FROM directory_entries;
$$;

-- The triggers keep the table in the transaction of each change. A bulk load (scripts/generate-population) sets
-- user_service.directory_sync to 'off' for its own transaction only (SET LOCAL) and then inserts the entries of
-- what it loaded in one statement from directory_listing: one set-based insert instead of one per row.
CREATE FUNCTION directory_sync_user() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('user_service.directory_sync', true) = 'off' THEN RETURN NULL; END IF;
    PERFORM directory_refresh(NEW.id);
    RETURN NULL;
END
$$;

CREATE FUNCTION directory_sync_details() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('user_service.directory_sync', true) = 'off' THEN RETURN NULL; END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM directory_refresh(OLD.user_id);
    ELSE
        PERFORM directory_refresh(NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;

-- Only the columns the directory holds: logins, sessions and other updates of users cost nothing here.
CREATE TRIGGER directory_sync AFTER UPDATE OF is_active, username, full_name, current_title, location ON users
    FOR EACH ROW EXECUTE FUNCTION directory_sync_user();
CREATE TRIGGER directory_sync AFTER INSERT OR UPDATE OR DELETE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION directory_sync_details();
CREATE TRIGGER directory_sync AFTER INSERT OR UPDATE OF remote_preference OR DELETE ON user_preferences
    FOR EACH ROW EXECUTE FUNCTION directory_sync_details();

-- Profiles saved before this migration.
SELECT directory_rebuild();
