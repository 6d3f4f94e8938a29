-- Per-account limit on change-password (CHANGE_PASSWORD_MAX_PER_HOUR): attempts in a one-hour window that starts
-- with the first attempt. A success does not reset it: each attempt costs two bcrypt computations.
CREATE TABLE password_change_attempts (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    CONSTRAINT password_change_attempts_positive CHECK (attempts >= 0)
);
CREATE INDEX password_change_attempts_window_started_at ON password_change_attempts (window_started_at);
