-- The session cache's notifications (0023), narrowed and made unconditional.
--
-- A user's row announces a change only when a column the cached session check holds changes (`UserRecord.columns`
-- in the session query: id, email, username, full_name, is_active, is_verified, premium_expires_at, created_at,
-- updated_at, current_title, location, is_admin, premium_plan) or its password hash does (a re-passworded user);
-- never for last_login alone. Every login writes last_login, and a transaction that notifies holds a cluster-wide
-- lock from its commit through its WAL flush (and a synchronous standby's answer): a notifying login would
-- serialise every login of the cluster. A cached /me may therefore show a last_login older by at most
-- SESSION_CACHE_SECONDS.
DROP TRIGGER users_session_check_update ON users;
CREATE TRIGGER users_session_check_update AFTER UPDATE ON users FOR EACH ROW
    WHEN ((OLD.id, OLD.email, OLD.username, OLD.full_name, OLD.is_active, OLD.is_verified, OLD.premium_expires_at,
           OLD.created_at, OLD.updated_at, OLD.current_title, OLD.location, OLD.is_admin, OLD.premium_plan,
           OLD.hashed_password)
          IS DISTINCT FROM
          (NEW.id, NEW.email, NEW.username, NEW.full_name, NEW.is_active, NEW.is_verified, NEW.premium_expires_at,
           NEW.created_at, NEW.updated_at, NEW.current_title, NEW.location, NEW.is_admin, NEW.premium_plan,
           NEW.hashed_password))
    EXECUTE FUNCTION session_check_notify();

-- ENABLE ALWAYS: the triggers fire under session_replication_role = replica too (a logical replication subscriber
-- applying the publisher's changes, a tool that loads data as a replica), which would otherwise skip them and leave
-- the workers' caches answering for sessions revoked that way. (ALTER TABLE ... DISABLE TRIGGER still turns them
-- off: pg_restore --disable-triggers does that while it loads data.)
ALTER TABLE users ENABLE ALWAYS TRIGGER users_session_check_update, ENABLE ALWAYS TRIGGER users_session_check_delete,
    ENABLE ALWAYS TRIGGER users_session_check_truncate;
ALTER TABLE user_sessions ENABLE ALWAYS TRIGGER user_sessions_session_check_update,
    ENABLE ALWAYS TRIGGER user_sessions_session_check_delete, ENABLE ALWAYS TRIGGER user_sessions_session_check_truncate;
