-- Per-account limits on the routes that mail a link on demand: `POST /api/v1/auth/verify-email-request`
-- (`verify_email`, VERIFY_EMAIL_MAX_PER_HOUR) and `POST /api/v1/auth/change-email` (`change_email`,
-- CHANGE_EMAIL_MAX_PER_HOUR), each in a one-hour window that starts with its first request, counted in one upsert
-- before the request's work: one account cannot fill a mailbox, nor the outbox that everyone's reset links wait in.
-- One row per account and purpose (the unique key the upsert names).
CREATE TABLE mail_link_requests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose text NOT NULL,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    requests integer NOT NULL DEFAULT 0,
    CONSTRAINT mail_link_requests_purpose CHECK (purpose IN ('verify_email', 'change_email')),
    CONSTRAINT mail_link_requests_positive CHECK (requests >= 0)
);
CREATE UNIQUE INDEX mail_link_requests_user_purpose ON mail_link_requests (user_id, purpose);
CREATE INDEX mail_link_requests_window_started_at ON mail_link_requests (window_started_at);
