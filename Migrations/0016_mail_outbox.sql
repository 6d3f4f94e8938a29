-- The mail outbox: every mail is written here in the same transaction as the change that causes it (a reset request,
-- a registration, a password or address change), so a crash or an SMTP outage loses none and a rolled-back change
-- sends none. `user-service mailer` leases pending rows (FOR UPDATE SKIP LOCKED, `leased_until`), sends outside any
-- transaction and marks each one sent; `variables` (which may hold a live token for the link) is blanked once sent.
-- Its `Message-ID` is `<id@domain of MAIL_FROM>`: the same on a resend after a crash.
-- A pending mail past `expires_at` (its token's expiry) is dropped, not sent. Deleting an account deletes its mail.
CREATE TABLE mail_outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    kind text NOT NULL,
    recipient text NOT NULL,
    variables jsonb NOT NULL DEFAULT '{}',
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    leased_until timestamptz,
    sent_at timestamptz,
    failed_at timestamptz,
    CONSTRAINT mail_outbox_kind CHECK (kind IN ('password_reset', 'password_changed', 'email_verification',
        'email_change_notice')),
    CONSTRAINT mail_outbox_attempts CHECK (attempts >= 0)
);
CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_user_id ON mail_outbox (user_id);
CREATE INDEX mail_outbox_sent_at ON mail_outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Wakes the mailers (LISTEN mail_outbox) when a mail is committed; a rolled-back insert notifies nobody.
CREATE FUNCTION mail_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mail_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER mail_outbox_notify AFTER INSERT ON mail_outbox FOR EACH STATEMENT EXECUTE FUNCTION mail_outbox_notify();
