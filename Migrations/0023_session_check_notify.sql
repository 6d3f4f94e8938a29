-- The workers' session cache (SESSION_CACHE_SECONDS): every change to what the per-request session check reads —
-- a user's row (active, admin, premium, the answer /me gives) and a session's revocation or lifetime — is announced
-- on channel `session_check` with the user's id as payload, by triggers on the tables themselves, so every writer
-- is covered: the API, `user-service users`, an operator's SQL. A worker LISTENs on its own connection and drops
-- its cached entries of that user when the notification arrives; PostgreSQL delivers it when the transaction
-- commits (a rolled-back change announces nothing). An empty payload (TRUNCATE) means every user.
CREATE FUNCTION session_check_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_user text;
    new_user text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('session_check', '');
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'users' THEN
        old_user := OLD.id::text;
        new_user := CASE WHEN TG_OP = 'UPDATE' THEN NEW.id::text END;
    ELSE
        old_user := OLD.user_id::text;
        new_user := CASE WHEN TG_OP = 'UPDATE' THEN NEW.user_id::text END;
    END IF;
    PERFORM pg_notify('session_check', old_user);
    IF new_user IS DISTINCT FROM old_user AND new_user IS NOT NULL THEN
        PERFORM pg_notify('session_check', new_user);
    END IF;
    RETURN NULL;
END $$;

-- Any change to a user's row: the check reads the row whole (the caller's record). A login writes last_login, which
-- /me shows, so it announces too.
CREATE TRIGGER users_session_check_update AFTER UPDATE ON users FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION session_check_notify();
CREATE TRIGGER users_session_check_delete AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION session_check_notify();
CREATE TRIGGER users_session_check_truncate AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION session_check_notify();

-- A session's revocation, lifetime or owner; not its "last seen" (written by the check itself) nor a new session
-- (nothing cached yet). Deleting a session announces only while it was live: a revoked or expired one is refused
-- already (an expired one by the cache's own comparison with the clock).
CREATE TRIGGER user_sessions_session_check_update AFTER UPDATE ON user_sessions FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
          OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION session_check_notify();
CREATE TRIGGER user_sessions_session_check_delete AFTER DELETE ON user_sessions FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND OLD.expires_at > now()) EXECUTE FUNCTION session_check_notify();
CREATE TRIGGER user_sessions_session_check_truncate AFTER TRUNCATE ON user_sessions FOR EACH STATEMENT
    EXECUTE FUNCTION session_check_notify();
