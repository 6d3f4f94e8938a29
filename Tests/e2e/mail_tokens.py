"""What the service's mails carry, read from the mail the real mailer delivered to a real SMTP server on 127.0.0.1.

A test that reads mail asks for the `delivered_mail` fixture and calls it with its stack; the stack's mail then goes
through `user-service mailer` to an aiosmtpd server (mail_helpers), and these functions read what arrived. A mail is
matched to what the service queued by its Message-ID (`<outbox row id@domain>`), so "the latest" is the one queued
last, whatever order the relay saw them in.
"""
import pytest

from conftest import psql, wait_for
from mail_helpers import make_mail_server, make_mailer, token_in  # noqa: F401 (fixtures used by delivered_mail)

_servers = {}  # database URL -> the MailServer its mailer delivers to


@pytest.fixture
def delivered_mail(make_mail_server, make_mailer):
    """`delivered_mail(stack)`: starts a mail server and a mailer for the stack's database (once per test)."""
    def attach(stack):
        if stack.database_url not in _servers:
            server = make_mail_server()
            make_mailer(stack.database_url, server)
            _servers[stack.database_url] = server
        return stack
    yield attach
    _servers.clear()


def _queued(stack, recipient, kind):
    """The outbox ids of the mails of `kind` queued to `recipient`, oldest first."""
    out = psql("SELECT id FROM mail_outbox WHERE recipient = '{}' AND kind = '{}' ORDER BY created_at, id".format(
        recipient.replace("'", "''"), kind), url=stack.database_url)
    return [line for line in out.splitlines() if line]


def _delivered(stack, recipient, kind):
    """Every queued mail of `kind` to `recipient`, once the mailer has delivered them all, parsed, oldest first."""
    server = _servers.get(stack.database_url)
    assert server, "no mailer for this stack: ask for the delivered_mail fixture and call it with the stack"
    ids = _queued(stack, recipient, kind)

    def arrived():
        by_id = {d.message["Message-ID"].strip("<>").split("@")[0]: d.message for d in server.delivered(recipient)}
        return [by_id[i] for i in ids] if all(i in by_id for i in ids) else None
    return wait_for(arrived, timeout=60, message=f"{len(ids)} {kind} mail(s) delivered to {recipient}") if ids else []


def token_from_latest_mail(stack, recipient, kind):
    """The token in the link of the latest mail of `kind` (password_reset, email_verification) to `recipient`."""
    messages = _delivered(stack, recipient, kind)
    assert messages, f"no {kind} mail with a link to {recipient}"
    return token_in(messages[-1])


def mail_count(stack, recipient, kind):
    """How many mails of `kind` (password_reset, password_changed, email_verification, email_change_notice) the
    service sent to `recipient` — each queued one delivered."""
    return len(_delivered(stack, recipient, kind))
