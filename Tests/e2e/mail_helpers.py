"""Mail for the end-to-end tests: a real SMTP server on 127.0.0.1 (aiosmtpd, Debian's python3-aiosmtpd), the real
`user-service mailer` process, and ways to queue mail and wait for it.

From another test file:

    from mail_helpers import make_mail_server, make_mailer, mail_server, tls_certificate  # noqa: F401 (fixtures)

    def test_reset(make_stack, mail_server, make_mailer):
        stack = make_stack()
        make_mailer(stack.database_url, mail_server)          # started and listening when this returns
        ...                                                    # something that queues a mail
        message = mail_server.wait_for_mail("user@example.com")  # an email.message.EmailMessage
        token = token_in(message)
"""
import asyncio
import email
import email.policy
import os
import re
import secrets
import signal
import ssl
import subprocess
import threading
import urllib.parse
import uuid

import pytest
from aiosmtpd.smtp import SMTP

from conftest import BIN, ROOT, RUN_DIR, create_database, migrate, private_folder, psql, wait_for

TEMPLATES = os.path.join(ROOT, "mail", "templates")
MAIL_FROM = "User Service <no-reply@mail.example.com>"
PUBLIC_BASE_URL = "https://app.example.com"


class Delivery:
    """One message the server accepted: its envelope and its bytes as received."""

    def __init__(self, mail_from, recipients, data):
        self.mail_from = mail_from
        self.recipients = recipients
        self.data = data

    @property
    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.default)


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):
        server = self.server
        for recipient in envelope.rcpt_tos:
            if recipient in server.reject:
                return server.reject[recipient]
        if server.stall_next.is_set():
            server.stall_next.clear()
            server.stalled_recipients = list(envelope.rcpt_tos)
            server.stalled.set()
            while not server.released.is_set():  # the server's own loop waits; the test waits on `stalled`
                await asyncio.sleep(0.01)
            if not server.accept_after_stall:
                return "451 4.3.0 Try again later"
        with server.lock:
            server.deliveries.append(Delivery(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            server.lock.notify_all()
        return "250 2.0.0 OK"


class MailServer:
    """A catch-all SMTP server on 127.0.0.1 in a thread of its own that keeps every message it accepts.

    security: None (plain), "starttls" (STARTTLS offered and required) or "tls" (TLS from the first byte), with the
    certificate (cert, key) given. port: 0 picks a free one. stall(): the next DATA waits, unanswered, until
    release(accept) (to kill or stop a mailer in the middle of a send); stalled_recipients: that DATA's envelope.
    reject: {recipient: reply} answers a mail's DATA with that reply instead."""

    def __init__(self, port=0, security=None, certificate=None, reject=None):
        self.port = port
        self.reject = dict(reject or {})
        self.stalled_recipients = []
        self.security = security
        self.context = None
        if security:
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(*certificate)
        self.deliveries = []
        self.lock = threading.Condition()
        self.stall_next, self.stalled, self.released = threading.Event(), threading.Event(), threading.Event()
        self.accept_after_stall = True
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = None

    def start(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(timeout=10)
        return self

    async def _listen(self):
        def factory():
            return SMTP(_Handler(self), hostname="mail.test", tls_context=self.context if self.security == "starttls" else None,
                        require_starttls=self.security == "starttls", data_size_limit=1 << 20)
        self.server = await self.loop.create_server(factory, "127.0.0.1", self.port,
                                                    ssl=self.context if self.security == "tls" else None)
        self.port = self.server.sockets[0].getsockname()[1]

    def stop(self):
        """Stops listening (a mailer then finds nothing at the port) and ends the thread."""
        if self.server is None:
            return
        self.released.set()

        async def close():
            self.server.close()
            await self.server.wait_closed()
            sessions = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in sessions:  # connections still open (a killed mailer's, a stalled one)
                task.cancel()
            await asyncio.gather(*sessions, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.server = None

    def stall(self):
        self.released.clear()
        self.stalled.clear()
        self.stall_next.set()

    def wait_until_stalled(self, timeout=30):
        assert self.stalled.wait(timeout), "no DATA reached the server"

    def release(self, accept=True):
        self.accept_after_stall = accept
        self.released.set()

    def delivered(self, recipient=None):
        with self.lock:
            return [d for d in self.deliveries if recipient is None or recipient in d.recipients]

    def wait_for_deliveries(self, count, recipient=None, timeout=30):
        """At least `count` deliveries (to `recipient`, if given); returns them all."""
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.delivered(recipient)) >= count, timeout), \
                f"{len(self.delivered(recipient))} of {count} mails arrived"
            return self.delivered(recipient)

    def wait_for_mail(self, recipient, timeout=30):
        """The first message delivered to `recipient`, parsed (email.message.EmailMessage)."""
        return self.wait_for_deliveries(1, recipient, timeout)[0].message


def wait_for_mail(server, recipient, timeout=30):
    return server.wait_for_mail(recipient, timeout)


def links_in(text):
    return re.findall(r"https?://[^\s\"'<>]+", text)


def parts(message):
    """The decoded plain-text and HTML parts."""
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def link_in(message):
    """The mail's one link (the same in both parts)."""
    text, html = parts(message)
    text_links, html_links = links_in(text), set(links_in(html))
    assert len(text_links) == 1 and html_links == set(text_links), (text_links, html_links)
    return text_links[0]


def token_in(message):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(link_in(message)).query)["token"][0]


# --- the outbox --------------------------------------------------------------------------------------------------

def queue_mail(url, kind, recipient, token=None, expires_in_seconds=None, count=1):
    """Queues mail as MailOutbox.enqueue does (its columns and `variables`), committed; returns the rows' ids."""
    token_sql = "NULL" if token is None else "'" + token.replace("'", "''") + "'"
    expires_sql = "NULL" if expires_in_seconds is None else f"now() + make_interval(secs => {expires_in_seconds})"
    recipient_sql = "'" + recipient.replace("'", "''") + "'"
    out = psql(f"""INSERT INTO mail_outbox (user_id, kind, recipient, variables, expires_at)
                   SELECT NULL, '{kind}', replace({recipient_sql}, '%n', n::text),
                          jsonb_strip_nulls(jsonb_build_object('token', {token_sql}::text)), {expires_sql}
                   FROM generate_series(1, {count}) AS n RETURNING id""", url=url)
    return out.split()


def mail_row(url, mail_id):
    """attempts, last_error, sent?, failed?, variables, leased? of one outbox row."""
    out = psql(f"""SELECT attempts, coalesce(last_error, ''), sent_at IS NOT NULL, failed_at IS NOT NULL, variables::text,
                          leased_until IS NOT NULL
                   FROM mail_outbox WHERE id = '{mail_id}'""", url=url)
    attempts, error, sent, failed, variables, leased = out.split("|")
    return {"attempts": int(attempts), "last_error": error, "sent": sent == "t", "failed": failed == "t",
            "variables": variables, "leased": leased == "t"}


def wake_mailers(url):
    """What a new mail does: NOTIFY mail_outbox (after a test moved a retry's time in the database)."""
    psql("SELECT pg_notify('mail_outbox', '')", url=url)


# --- the mailer process ------------------------------------------------------------------------------------------

class Mailer:
    """`user-service mailer` on a database, sending to a MailServer (or to a port), with its own env file and log."""

    def __init__(self, database_url, server=None, port=None, env=None, binary=BIN, wrapper=(), name="mailer"):
        self.dir = private_folder(os.path.join(RUN_DIR, f"{name}-{uuid.uuid4().hex[:8]}"))
        self.settings = {
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": secrets.token_hex(32),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port or server.port),
            "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT_SECONDS": "20",
            "MAIL_FROM": MAIL_FROM,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "MAIL_TEMPLATES_DIR": TEMPLATES,
            "DB_CONNECT_TIMEOUT_SECONDS": "2",
            "DB_STATEMENT_TIMEOUT_MS": "30000",
        }
        self.settings.update(env or {})
        self.env_file = os.path.join(self.dir, "mailer.env")
        with open(os.open(self.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            for key, value in self.settings.items():
                f.write(f"{key}={value}\n")
        self.log_path = os.path.join(self.dir, "mailer.log")
        self.binary = binary
        self.wrapper = list(wrapper)
        self.process = None

    def start(self, wait=True):
        self.log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.wrapper + [self.binary, "mailer", "--env-file", self.env_file], stdout=self.log_file,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if wait:
            self.wait_for_log("mailer: ready")
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_for_log(self, text, count=1, timeout=30):
        wait_for(lambda: self.log().count(text) >= count or self.process.poll() is not None, timeout=timeout,
                 message=f"'{text}' in the mailer's log")
        assert self.log().count(text) >= count, self.log()

    def send_signal(self, sig):
        self.process.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log_file.close()
        return self.process.returncode if self.process else None


# --- fixtures ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tls_certificate():
    """A self-signed certificate for 127.0.0.1 and localhost: (cert, key) paths."""
    folder = private_folder(os.path.join(RUN_DIR, f"mail-tls-{uuid.uuid4().hex[:6]}"))
    cert, key = os.path.join(folder, "smtp.crt"), os.path.join(folder, "smtp.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(cert, 0o644)
    return cert, key


def certificate_authority(folder, name):
    """A certificate authority of its own in folder: (cert, key) paths."""
    cert, key = os.path.join(folder, f"{name}.crt"), os.path.join(folder, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(cert, 0o644)
    return cert, key


def signed_certificate(folder, name, authority, names="IP:127.0.0.1,DNS:localhost"):
    """A server certificate for `names` (subjectAltName) signed by authority (cert, key): (cert, key) paths."""
    cert, key, request = (os.path.join(folder, f"{name}.{ext}") for ext in ("crt", "key", "csr"))
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", f"/CN={name}", "-keyout", key, "-out", request], check=True, capture_output=True)
    extensions = os.path.join(folder, f"{name}.ext")
    with open(extensions, "w") as f:
        f.write(f"subjectAltName={names}\nbasicConstraints=CA:FALSE\n")
    subprocess.run(["openssl", "x509", "-req", "-in", request, "-CA", authority[0], "-CAkey", authority[1], "-CAcreateserial",
                    "-days", "2", "-extfile", extensions, "-out", cert], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def make_mail_server():
    """make_mail_server(port=0, security=None, certificate=None, reject=None) → a started MailServer, stopped
    after the test."""
    servers = []

    def make(**kwargs):
        server = MailServer(**kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def mail_server(make_mail_server):
    """A plain catch-all SMTP server on a free port."""
    return make_mail_server()


@pytest.fixture
def make_mailer():
    """make_mailer(database_url, server=None, port=None, env=None, wait=True, binary=BIN, wrapper=()) → a started
    Mailer, stopped after."""
    mailers = []

    def make(database_url, server=None, port=None, env=None, wait=True, binary=BIN, wrapper=()):
        mailer = Mailer(database_url, server=server, port=port, env=env, binary=binary, wrapper=wrapper)
        mailers.append(mailer)
        return mailer.start(wait=wait)

    yield make
    for mailer in mailers:
        mailer.stop(sig=signal.SIGKILL)


@pytest.fixture
def mail_database():
    """A fresh database with every migration applied."""
    url = create_database()
    result = migrate(url)
    assert result.returncode == 0, result.stderr
    return url
