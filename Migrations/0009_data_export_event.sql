-- `GET /api/v1/users/me/export` records a `data_export` event. The previous release never writes it, so widening
-- the check is safe before the reload.
ALTER TABLE security_events
    DROP CONSTRAINT security_events_type,
    ADD CONSTRAINT security_events_type CHECK (type IN ('login_success', 'login_failure', 'login_throttled', 'logout',
        'logout_all', 'refresh_token_reuse', 'password_change', 'session_revoked', 'account_deleted', 'data_export'));
