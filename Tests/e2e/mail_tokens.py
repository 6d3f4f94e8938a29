"""What the service's mails carry, for tests of the mail flows.

For now the mails are read where the service queues them (the `mail_outbox` table, through psql): the raw token
stays in a pending mail's `variables` until the mailer sends it. Once the mailer is part of the test stacks these
read the delivered mail instead; the tests call only these functions.
"""
from conftest import psql


def token_from_latest_mail(stack, recipient, kind):
    """The token in the link of the latest mail of `kind` (password_reset, email_verification) to `recipient`."""
    token = psql("SELECT variables->>'token' FROM mail_outbox WHERE recipient = '{}' AND kind = '{}' "
                 "ORDER BY created_at DESC LIMIT 1".format(recipient.replace("'", "''"), kind), url=stack.database_url)
    assert token, f"no {kind} mail with a link to {recipient}"
    return token


def mail_count(stack, recipient, kind):
    """How many mails of `kind` (password_reset, password_changed, email_verification, email_change_notice) the
    service has sent (for now: queued) to `recipient`."""
    return int(psql("SELECT count(*) FROM mail_outbox WHERE recipient = '{}' AND kind = '{}'".format(
        recipient.replace("'", "''"), kind), url=stack.database_url))
