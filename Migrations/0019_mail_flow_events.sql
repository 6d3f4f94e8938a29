-- Security events of the mail flows: a reset asked for (only when a link is sent) and done, an address verified, a
-- change of address asked for and confirmed. The previous release never writes these types, so this is safe before
-- the reload.
ALTER TABLE security_events
    DROP CONSTRAINT security_events_type,
    ADD CONSTRAINT security_events_type CHECK (type IN ('login_success', 'login_failure', 'login_throttled', 'logout',
        'logout_all', 'refresh_token_reuse', 'password_change', 'session_revoked', 'account_deleted', 'data_export',
        'premium_upgraded', 'premium_downgraded',
        'admin_activated', 'admin_deactivated', 'admin_verified', 'admin_unverified', 'admin_premium_granted',
        'admin_premium_ended', 'admin_sessions_revoked', 'admin_deleted', 'admin_promoted', 'admin_demoted',
        'account_imported',
        'password_reset_requested', 'password_reset', 'email_verified', 'email_change_requested', 'email_changed'));
