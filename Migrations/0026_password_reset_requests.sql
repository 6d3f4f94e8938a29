-- Per-address limit on password-reset requests (PASSWORD_RESET_MAX_PER_HOUR): requests for one address in a one-hour
-- window that starts with the window's first request, counted in one upsert that every request makes first, in its
-- own transaction, whatever the address: registered or not, of an active account or not, over the limit or not.
-- That write is the point: every request's transaction then commits the same way (a transaction id, a WAL flush),
-- so its time does not tell whether an active account has the address, and the row's lock makes the requests for
-- one address take turns. Counted per address, not per account: a new address does not inherit an old one's count.
--
-- Keyed by the address, not by an account (most addresses asked about belong to none): `address_hash`, the SHA-256
-- of the normalised (trimmed, lower-cased) address, is the primary key — one row per address, so no surrogate key —
-- and the address itself is not stored. No foreign key to users for the same reason; `user-service cleanup` removes
-- rows whose window ended.
CREATE TABLE password_reset_requests (
    address_hash bytea PRIMARY KEY,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    requests integer NOT NULL DEFAULT 0,
    CONSTRAINT password_reset_requests_address_hash_length CHECK (length(address_hash) = 32),
    CONSTRAINT password_reset_requests_positive CHECK (requests >= 0)
);
CREATE INDEX password_reset_requests_window_started_at ON password_reset_requests (window_started_at);
