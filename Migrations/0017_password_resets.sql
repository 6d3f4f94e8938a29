-- Password-reset tokens (`POST /api/v1/auth/password-reset-request`): 256 random bits sent only by mail, stored only
-- as their SHA-256. Single use (`used_at`, set by a conditional UPDATE, so two confirmations cannot both win); a newer
-- request, a successful reset, a password change or a change of address ends the others (`revoked_at`). Rows created
-- in the last hour are the per-address limit's count (PASSWORD_RESET_MAX_PER_HOUR). `user-service cleanup` removes
-- rows used, revoked or expired longer ago than CLEANUP_RETENTION_DAYS.
CREATE TABLE password_resets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT password_resets_token_hash_length CHECK (length(token_hash) = 32)
);
CREATE UNIQUE INDEX password_resets_token_hash ON password_resets (token_hash);
CREATE INDEX password_resets_user_id ON password_resets (user_id, created_at);
