-- Timestamps this service can read back: PostgreSQL also stores 'infinity', BC dates and years past 9999, which the
-- service's reader refuses, so one such value (imported, or granted by an administrator) would make every request of
-- that account fail. The previous release writes only real times well inside these bounds.
ALTER TABLE users
    ADD CONSTRAINT users_created_at_bounds CHECK (created_at >= '1970-01-01' AND created_at < '9000-01-01'),
    ADD CONSTRAINT users_premium_expires_at_bounds CHECK (premium_expires_at < '9000-01-01');
