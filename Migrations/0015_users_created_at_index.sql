-- migrate: no-transaction
-- The administrators' list pages users newest first: an index in that order spares a sort of the whole table.
-- Built CONCURRENTLY, so a running pool keeps writing to users meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_created_at_id ON users (created_at DESC, id DESC);
