-- Per-account limit on directory requests (DIRECTORY_MAX_PER_MINUTE): searches and lookups of other users in a
-- one-minute window that starts with the window's first request, counted atomically in one upsert before the
-- directory is read, so one premium account cannot scrape the directory however many workers it reaches.
CREATE TABLE directory_requests (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    requests integer NOT NULL DEFAULT 0,
    CONSTRAINT directory_requests_positive CHECK (requests >= 0)
);
CREATE INDEX directory_requests_window_started_at ON directory_requests (window_started_at);
