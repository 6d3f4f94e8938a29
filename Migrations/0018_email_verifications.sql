-- Email-verification tokens, stored only as their SHA-256, each for one address (`email`): the account's own
-- address (`replaces_email` NULL: at registration or on request), or a new one (`replaces_email`: the account's
-- address when the change was asked for, `POST /api/v1/auth/change-email`). A token verifies only while its address
-- is still the account's, or, for a change, while the account still has the address it replaces; confirming a
-- change moves the account to `email` (the unique index on lower(email) decides a race for the address).
-- Single use (`used_at`); a newer token for the same purpose, or a confirmed change, ends the others (`revoked_at`).
CREATE TABLE email_verifications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    email text NOT NULL,
    replaces_email text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT email_verifications_token_hash_length CHECK (length(token_hash) = 32),
    CONSTRAINT email_verifications_email_format CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    CONSTRAINT email_verifications_change CHECK (replaces_email IS NULL OR replaces_email <> email)
);
CREATE UNIQUE INDEX email_verifications_token_hash ON email_verifications (token_hash);
CREATE INDEX email_verifications_user_id ON email_verifications (user_id, created_at);
