-- The outbox's per-round cost no longer grows with the pending backlog, and permanent rejections are counted.
--
-- Cleanup deletes sent, given-up and dropped mail by the time it left the queue (0016 indexed sent_at only, so
-- given-up and dropped mail were found by a scan).
DROP INDEX mail_outbox_sent_at;
CREATE INDEX mail_outbox_finished ON mail_outbox ((coalesce(sent_at, failed_at))) WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL;

-- Each round drops the pending mail whose token expired: found by this index, not by reading every pending row.
CREATE INDEX mail_outbox_pending_expiry ON mail_outbox (expires_at)
    WHERE sent_at IS NULL AND failed_at IS NULL AND expires_at IS NOT NULL;

-- When the next mail is due, asked after a round that leased nothing: the end of a live lease (the pending rows by
-- next_attempt_at are in mail_outbox_pending).
CREATE INDEX mail_outbox_pending_lease ON mail_outbox (leased_until)
    WHERE sent_at IS NULL AND failed_at IS NULL AND leased_until IS NOT NULL;

-- /metrics: the oldest pending mail's age, and the pending count (capped) from this index alone.
CREATE INDEX mail_outbox_pending_created ON mail_outbox (created_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- How many times the relay refused this mail with a permanent (5xx) reply: the mailer gives it up after a few
-- (MailCourier.maximumRejections) instead of retrying it for a day. 4xx replies and connection failures do not count.
ALTER TABLE mail_outbox ADD COLUMN rejections integer NOT NULL DEFAULT 0;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_rejections CHECK (rejections >= 0);
