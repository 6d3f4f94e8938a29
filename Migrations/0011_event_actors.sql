-- Events done by someone else than the account's owner: an administrator's actions (through the API or the command
-- line) name that administrator in `actor_id` (NULL for the command line, which has no account) beside the user acted
-- on; premium changes are recorded too. An actor's deletion keeps the event and forgets the actor. The previous
-- release never writes these types or the column, so this is safe before the reload.
ALTER TABLE security_events
    ADD COLUMN actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
    DROP CONSTRAINT security_events_type,
    ADD CONSTRAINT security_events_type CHECK (type IN ('login_success', 'login_failure', 'login_throttled', 'logout',
        'logout_all', 'refresh_token_reuse', 'password_change', 'session_revoked', 'account_deleted', 'data_export',
        'premium_upgraded', 'premium_downgraded',
        'admin_activated', 'admin_deactivated', 'admin_verified', 'admin_unverified', 'admin_premium_granted',
        'admin_premium_ended', 'admin_sessions_revoked', 'admin_deleted', 'admin_promoted', 'admin_demoted',
        'account_imported'));
CREATE INDEX security_events_actor_id ON security_events (actor_id) WHERE actor_id IS NOT NULL;
