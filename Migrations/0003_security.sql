-- Per-identifier login throttling, security events, and indexes for cleanup.
CREATE TABLE login_throttle (
    identifier text PRIMARY KEY,
    attempts integer NOT NULL DEFAULT 0,
    lockouts integer NOT NULL DEFAULT 0,
    blocked_until timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT login_throttle_identifier_length CHECK (length(identifier) <= 320)
);
CREATE INDEX login_throttle_updated_at ON login_throttle (updated_at);

CREATE TABLE security_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    type text NOT NULL,
    ip_address text,
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT security_events_type CHECK (type IN ('login_success', 'login_failure', 'login_throttled', 'logout',
        'logout_all', 'refresh_token_reuse', 'password_change', 'session_revoked'))
);
CREATE INDEX security_events_user_id_created_at ON security_events (user_id, created_at DESC);
CREATE INDEX security_events_created_at ON security_events (created_at);

CREATE INDEX user_sessions_expires_at ON user_sessions (expires_at);
CREATE INDEX user_sessions_revoked_at ON user_sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
