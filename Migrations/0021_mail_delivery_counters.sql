-- What the mailers have done, for /metrics: Prometheus counters that never go down, so they cannot be counted
-- from mail_outbox (cleanup deletes old mail). One row per kind of mail, moved in the same statement as the mail's
-- own row (MailQueue): sent, failed attempts, mails given up after the last attempt, mails dropped unsent because
-- their token expired.
CREATE TABLE mail_delivery_counters (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL UNIQUE,
    sent bigint NOT NULL DEFAULT 0,
    send_failures bigint NOT NULL DEFAULT 0,
    given_up bigint NOT NULL DEFAULT 0,
    expired bigint NOT NULL DEFAULT 0
);
