-- Administrators and premium subscriptions. `is_admin` marks an administrator (checked against this column in the
-- query that loads each request's session, never trusted from a token). Premium is `premium_expires_at` in the
-- future: it lapses by itself, with no job to run; `premium_plan` says which plan bought it. The old `is_premium`
-- column is left for the previous release, which still reads it; this release computes the flag from the expiry.
ALTER TABLE users
    ADD COLUMN is_admin boolean NOT NULL DEFAULT false,
    ADD COLUMN premium_plan text,
    ADD COLUMN premium_expires_at timestamptz,
    ADD CONSTRAINT users_premium_plan CHECK (premium_plan IN ('monthly', 'yearly')),
    ADD CONSTRAINT users_premium_consistent CHECK ((premium_plan IS NULL) = (premium_expires_at IS NULL));
CREATE INDEX users_is_admin ON users (id) WHERE is_admin AND is_active;
