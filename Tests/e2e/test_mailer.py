"""`user-service mailer` end to end: the real binary, a real PostgreSQL, a real SMTP server on 127.0.0.1.

Mail is queued with SQL as `MailOutbox.enqueue` writes it (mail_helpers.queue_mail). Retries and leases are moved in
the database, never waited out."""
import email.utils
import os
import re
import secrets
import shutil
import signal
import subprocess
import uuid

import requests

from conftest import BIN, ROOT, RUN_DIR, Stack, free_port, private_folder, psql, wait_for
from mail_helpers import (MAIL_FROM, TEMPLATES, Mailer, certificate_authority, link_in, mail_row, parts,  # noqa: F401
                          queue_mail, signed_certificate, token_in, make_mail_server, make_mailer, mail_database,
                          mail_server, tls_certificate, wake_mailers)

SENDER = "no-reply@mail.example.com"


def rows_where(url, condition):
    return int(psql(f"SELECT count(*) FROM mail_outbox WHERE {condition}", url=url))


# Far longer than any test: a mail that arrives within seconds was brought by LISTEN/NOTIFY, not by the safety net.
NO_POLL = {"MAIL_POLL_SECONDS": "3600"}


def wait_until_waiting(url):
    """Until the database's one mailer has finished its round and waits (idle, its last statement not the LISTEN):
    a mail queued now can only reach it through a notification."""
    database = url.rsplit("/", 1)[1]
    wait_for(lambda: psql(f"""SELECT count(*) FROM pg_stat_activity
                              WHERE application_name = 'user-service-mailer' AND datname = '{database}'
                                AND state = 'idle' AND query NOT LIKE 'LISTEN%'""", url=url) == "1",
             timeout=30, message="the mailer waiting")


def test_a_new_mail_wakes_a_waiting_mailer_at_once(mail_database, mail_server, make_mailer):
    make_mailer(mail_database, mail_server, env=NO_POLL)
    wait_until_waiting(mail_database)
    queue_mail(mail_database, "password_changed", "woken@example.com")
    mail_server.wait_for_mail("woken@example.com", timeout=10)


def test_the_mailer_prefers_mailer_database_url(mail_database, mail_server, make_mailer):
    """MAILER_DATABASE_URL: the mailer's own connection (PostgreSQL directly, where DATABASE_URL goes through a
    transaction-mode PgBouncer on which LISTEN cannot work). Here DATABASE_URL leads nowhere: the mailer connects
    through MAILER_DATABASE_URL and LISTENs there."""
    nowhere = f"postgresql://nobody@127.0.0.1:{free_port()}/nowhere"
    make_mailer(nowhere, mail_server, env={"MAILER_DATABASE_URL": mail_database, **NO_POLL})
    wait_until_waiting(mail_database)
    queue_mail(mail_database, "password_changed", "direct@example.com")
    mail_server.wait_for_mail("direct@example.com", timeout=10)


def test_a_queued_mail_is_delivered_as_proper_mime_and_its_link_blanked(mail_database, mail_server, make_mailer):
    mailer = make_mailer(mail_database, mail_server)
    token = "Zt4_-" + uuid.uuid4().hex
    [mail_id] = queue_mail(mail_database, "password_reset", "alice@example.com", token=token, expires_in_seconds=3600)
    message = mail_server.wait_for_mail("alice@example.com")
    delivery = mail_server.delivered("alice@example.com")[0]
    raw = delivery.data

    # RFC 5322 on the wire: CRLF only, short lines, 7-bit.
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 78 for line in raw.split(b"\r\n")), max(raw.split(b"\r\n"), key=len)
    assert all(byte < 0x80 for byte in raw)
    # The envelope and the headers.
    assert delivery.mail_from == SENDER and delivery.recipients == ["alice@example.com"]
    assert message["Message-ID"] == f"<{mail_id}@mail.example.com>"
    assert message["From"] == MAIL_FROM and message["To"] == "alice@example.com"
    assert message["Subject"] == "Reset your password"
    assert email.utils.parsedate_to_datetime(message["Date"]).utcoffset().total_seconds() == 0
    assert message["MIME-Version"] == "1.0" and message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())
    # Exactly one link, the same in both parts: the front end's reset page with the token.
    link = link_in(message)
    assert link.startswith("https://app.example.com/reset-password?token=") and token_in(message) == token
    text, html = parts(message)
    assert "UTC" in text and "alice@example.com" in html

    # Marked sent, its live link gone from the database; the token never in the log.
    wait_for(lambda: mail_row(mail_database, mail_id)["sent"], message="the mail marked sent")
    row = mail_row(mail_database, mail_id)
    assert row["variables"] == "{}" and row["attempts"] == 1 and not row["leased"]
    assert f"sent {mail_id}" in mailer.log() and token not in mailer.log()


def test_notices_carry_no_link(mail_database, mail_server, make_mailer):
    make_mailer(mail_database, mail_server)
    queue_mail(mail_database, "password_changed", "bob@example.com")
    queue_mail(mail_database, "email_change_notice", "carol@example.com")
    for recipient, subject in (("bob@example.com", "Your password was changed"),
                               ("carol@example.com", "A change of your email address was requested")):
        message = mail_server.wait_for_mail(recipient)
        assert message["Subject"] == subject
        text, html = parts(message)
        assert not re.search(r"https?://", text + html) and "href" not in html
        assert recipient in text


def test_templates_from_the_deployers_folder_utf8_and_escaped(mail_database, mail_server, make_mailer):
    folder = private_folder(os.path.join(RUN_DIR, f"templates-{uuid.uuid4().hex[:6]}"))
    shutil.copytree(TEMPLATES, folder, dirs_exist_ok=True)
    subject = "Vérifiez votre adresse ✉ — un très long sujet qui doit être replié sur plusieurs lignes d'en-tête"
    with open(os.path.join(folder, "email_verification.txt"), "w") as f:
        f.write(f"Subject: {subject}\n\nBonjour {{{{email}}}}, ouvrez ce lien : {{{{link}}}} (jusqu'au {{{{expires}}}}). Ça marche.\n")
    with open(os.path.join(folder, "email_verification.html"), "w") as f:
        f.write("<p>Bonjour <b>{{email}}</b> — <a href=\"{{link}}\">vérifier</a></p>\n")
    make_mailer(mail_database, mail_server, env={"MAIL_TEMPLATES_DIR": folder})
    recipient = "o'brien+x&y@example.com"
    queue_mail(mail_database, "email_verification", recipient, token="tok-1", expires_in_seconds=600)
    message = mail_server.wait_for_mail(recipient)
    raw = mail_server.delivered(recipient)[0].data
    assert all(byte < 0x80 for byte in raw) and all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert str(message["Subject"]) == subject
    text, html = parts(message)
    assert f"Bonjour {recipient}, ouvrez ce lien : https://app.example.com/verify-email?token=tok-1" in text
    assert "Ça marche." in text
    # Substituted values are HTML-escaped in the HTML part, and only there.
    assert "<b>o&#39;brien+x&amp;y@example.com</b>" in html
    assert '<a href="https://app.example.com/verify-email?token=tok-1">vérifier</a>' in html


def test_smtp_server_down_then_back_nothing_lost_nothing_twice(mail_database, make_mail_server, make_mailer):
    port = free_port()
    mailer = make_mailer(mail_database, port=port)
    ids = queue_mail(mail_database, "password_reset", "down%n@example.com", token="t", expires_in_seconds=3600, count=3)
    wait_for(lambda: rows_where(mail_database, "attempts = 1 AND last_error IS NOT NULL AND leased_until IS NULL") == 3,
             timeout=30, message="three failed attempts recorded")
    for mail_id in ids:
        row = mail_row(mail_database, mail_id)
        assert not row["sent"] and not row["failed"] and "token" in row["variables"]
        assert "connect" in row["last_error"].lower(), row["last_error"]
    # The first retry is due within 10 s.
    assert rows_where(mail_database, "next_attempt_at <= now() + interval '10 seconds'") == 3
    assert "next attempt in 5 s" in mailer.log()

    server = make_mail_server(port=port)
    psql("UPDATE mail_outbox SET next_attempt_at = now()", url=mail_database)
    wake_mailers(mail_database)
    server.wait_for_deliveries(3)
    wait_for(lambda: rows_where(mail_database, "sent_at IS NOT NULL") == 3, message="all marked sent")
    ids_delivered = sorted(d.message["Message-ID"] for d in server.delivered())
    assert ids_delivered == sorted(f"<{i}@mail.example.com>" for i in ids)
    assert rows_where(mail_database, "attempts = 2") == 3


def test_two_mailers_deliver_each_mail_exactly_once(mail_database, make_mail_server, make_mailer):
    server = make_mail_server()
    first, second = make_mailer(mail_database, server), make_mailer(mail_database, server)
    # The first DATA stalls: whichever mailer sent it holds its leased batch, so the other must deliver the rest —
    # both take part however the machine schedules them.
    server.stall()
    ids = queue_mail(mail_database, "password_changed", "many%n@example.com", count=60)
    server.wait_until_stalled()
    server.wait_for_deliveries(50, timeout=60)
    server.release(accept=True)
    server.wait_for_deliveries(60, timeout=60)
    wait_for(lambda: rows_where(mail_database, "sent_at IS NOT NULL") == 60, timeout=30, message="all marked sent")
    delivered = [d.message["Message-ID"] for d in server.delivered()]
    assert len(delivered) == 60 and sorted(delivered) == sorted(f"<{i}@mail.example.com>" for i in ids)
    # Both took part: the leases split the work rather than one mailer doing it all.
    assert first.log().count("mailer: sent ") > 0 and second.log().count("mailer: sent ") > 0
    assert first.log().count("mailer: sent ") + second.log().count("mailer: sent ") == 60


def test_a_mailer_killed_mid_send_leaves_the_mail_to_the_next_once_the_lease_ends(mail_database, mail_server, make_mailer):
    mailer = make_mailer(mail_database, mail_server)
    mail_server.stall()
    [mail_id] = queue_mail(mail_database, "password_reset", "killed@example.com", token="t1", expires_in_seconds=3600)
    mail_server.wait_until_stalled()
    mailer.process.kill()
    mailer.process.wait()
    mail_server.release(accept=False)  # the killed mailer's data never reached "accepted"
    row = mail_row(mail_database, mail_id)
    assert row["leased"] and not row["sent"] and row["attempts"] == 1
    # A new mailer leaves the leased mail alone until the lease ends (moved in the database here).
    make_mailer(mail_database, mail_server)
    psql(f"UPDATE mail_outbox SET leased_until = now() - interval '1 second' WHERE id = '{mail_id}'", url=mail_database)
    wake_mailers(mail_database)
    message = mail_server.wait_for_mail("killed@example.com")
    assert message["Message-ID"] == f"<{mail_id}@mail.example.com>"
    wait_for(lambda: mail_row(mail_database, mail_id)["sent"], message="the mail marked sent")
    assert mail_row(mail_database, mail_id)["attempts"] == 2 and len(mail_server.delivered()) == 1


def test_sigterm_finishes_the_mail_in_hand_and_releases_the_rest(mail_database, mail_server, make_mailer):
    mailer = make_mailer(mail_database, mail_server)
    mail_server.stall()
    ids = queue_mail(mail_database, "password_changed", "drain%n@example.com", count=3)
    mail_server.wait_until_stalled()
    mailer.send_signal(signal.SIGTERM)
    assert mailer.process.poll() is None
    mail_server.release(accept=True)
    assert mailer.process.wait(timeout=30) == 0
    log = mailer.log()
    assert log.index("mailer: sent ") < log.index("mailer: stopping") < log.index("mailer: stopped")
    assert len(mail_server.delivered()) == 1
    rows = [mail_row(mail_database, i) for i in ids]
    assert sum(r["sent"] for r in rows) == 1
    # The batch's other mails are pending again, unleased, their attempt not counted.
    assert [(r["leased"], r["attempts"]) for r in rows if not r["sent"]] == [(False, 0), (False, 0)]


def test_pending_mail_past_its_tokens_expiry_is_dropped_not_sent(mail_database, mail_server, make_mailer):
    [expired] = queue_mail(mail_database, "password_reset", "expired@example.com", token="old", expires_in_seconds=-1)
    mailer = make_mailer(mail_database, mail_server)
    queue_mail(mail_database, "password_reset", "fresh@example.com", token="new", expires_in_seconds=3600)
    mail_server.wait_for_mail("fresh@example.com")
    wait_for(lambda: mail_row(mail_database, expired)["failed"], message="the expired mail dropped")
    row = mail_row(mail_database, expired)
    assert row["variables"] == "{}" and row["attempts"] == 0 and "expired" in row["last_error"]
    assert mail_server.delivered("expired@example.com") == []
    assert "dropped 1 mails whose token expired" in mailer.log()


def test_starttls_with_a_trusted_private_ca(mail_database, make_mail_server, make_mailer, tls_certificate):
    server = make_mail_server(security="starttls", certificate=tls_certificate)
    make_mailer(mail_database, server, env={"SMTP_SECURITY": "starttls", "SMTP_CA_FILE": tls_certificate[0]})
    queue_mail(mail_database, "password_changed", "tls@example.com")
    assert server.wait_for_mail("tls@example.com")["Subject"] == "Your password was changed"


def test_implicit_tls_with_a_trusted_private_ca(mail_database, make_mail_server, make_mailer, tls_certificate):
    server = make_mail_server(security="tls", certificate=tls_certificate)
    make_mailer(mail_database, server, env={"SMTP_SECURITY": "tls", "SMTP_CA_FILE": tls_certificate[0]})
    queue_mail(mail_database, "password_changed", "smtps@example.com")
    server.wait_for_mail("smtps@example.com")


def test_starttls_refuses_an_untrusted_certificate_and_keeps_the_mail(mail_database, make_mail_server, make_mailer,
                                                                      tls_certificate):
    server = make_mail_server(security="starttls", certificate=tls_certificate)
    make_mailer(mail_database, server, env={"SMTP_SECURITY": "starttls"})  # the system's CAs only
    [mail_id] = queue_mail(mail_database, "password_changed", "untrusted@example.com")
    wait_for(lambda: mail_row(mail_database, mail_id)["last_error"], timeout=30, message="the failed attempt recorded")
    row = mail_row(mail_database, mail_id)
    assert not row["sent"] and not row["failed"] and "certificate" in row["last_error"].lower(), row
    assert server.delivered() == []


def refused_attempt(url, mail_id, server):
    """The mail's first attempt failed and was recorded; it stays pending and nothing reached the server."""
    wait_for(lambda: mail_row(url, mail_id)["last_error"], timeout=30, message="the failed attempt recorded")
    row = mail_row(url, mail_id)
    assert not row["sent"] and not row["failed"] and row["attempts"] == 1, row
    assert server.delivered() == []
    return row["last_error"]


def test_starttls_refuses_a_relay_that_does_not_offer_it(mail_database, make_mail_server, make_mailer, tls_certificate):
    server = make_mail_server()  # plain SMTP, no STARTTLS
    make_mailer(mail_database, server, env={"SMTP_SECURITY": "starttls", "SMTP_CA_FILE": tls_certificate[0]})
    [mail_id] = queue_mail(mail_database, "password_changed", "plain@example.com")
    assert "starttls" in refused_attempt(mail_database, mail_id, server).lower()


def test_a_trusted_certificate_for_another_host_is_refused(mail_database, make_mail_server, make_mailer):
    folder = private_folder(os.path.join(RUN_DIR, f"mail-tls-{uuid.uuid4().hex[:6]}"))
    authority = certificate_authority(folder, "test-ca")
    certificate = signed_certificate(folder, "other-host", authority, names="DNS:relay.other.example")
    server = make_mail_server(security="starttls", certificate=certificate)
    make_mailer(mail_database, server, env={"SMTP_SECURITY": "starttls", "SMTP_CA_FILE": authority[0]})
    [mail_id] = queue_mail(mail_database, "password_changed", "wronghost@example.com")
    assert "127.0.0.1" in refused_attempt(mail_database, mail_id, server)  # "no alternative certificate subject name matches"


def test_smtp_ca_file_replaces_the_systems_authorities(mail_database, make_mail_server, make_mailer, tls_certificate):
    """libcurl's built-in CApath (/etc/ssl/certs) stays in use unless cleared. The mailer runs in a mount namespace
    where /etc/ssl/certs holds only a test authority (a stand-in for the system's store): trusted without
    SMTP_CA_FILE, refused when SMTP_CA_FILE names another authority."""
    folder = private_folder(os.path.join(RUN_DIR, f"mail-tls-{uuid.uuid4().hex[:6]}"))
    system_store = os.path.join(folder, "certs")
    os.mkdir(system_store)
    os.chmod(folder, 0o755)
    os.chmod(system_store, 0o755)
    authority = certificate_authority(system_store, "system-ca")
    subprocess.run(["openssl", "rehash", system_store], check=True, capture_output=True)
    shutil.copy(authority[0], os.path.join(system_store, "ca-certificates.crt"))  # libcurl's default CAfile, in the store
    server = make_mail_server(security="starttls", certificate=signed_certificate(folder, "relay", authority))
    in_namespace = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    'mount --bind "$0" /etc/ssl/certs && exec "$@"', system_store]

    trusting = make_mailer(mail_database, server, env={"SMTP_SECURITY": "starttls"}, wrapper=in_namespace)
    queue_mail(mail_database, "password_changed", "system-store@example.com")
    server.wait_for_mail("system-store@example.com")
    trusting.stop()

    make_mailer(mail_database, server, env={"SMTP_SECURITY": "starttls", "SMTP_CA_FILE": tls_certificate[0]}, wrapper=in_namespace)
    [mail_id] = queue_mail(mail_database, "password_changed", "private-ca@example.com")
    wait_for(lambda: mail_row(mail_database, mail_id)["last_error"], timeout=30, message="the failed attempt recorded")
    row = mail_row(mail_database, mail_id)
    assert not row["sent"] and "certificate" in row["last_error"].lower(), row
    assert server.delivered("private-ca@example.com") == []


def test_permanent_refusals_are_given_up_after_three_and_passing_ones_retried(mail_database, make_mail_server, make_mailer):
    """A 5xx answer to a mail's DATA is tried again twice, then given up; a 4xx answer is retried until the last
    attempt. last_error holds the reply code, never the relay's text (which may echo the mail)."""
    server = make_mail_server(reject={"refused@example.com": "554 5.7.1 Refused: echo-of-the-data-xyzzy",
                                      "later@example.com": "451 4.7.1 Greylisted: echo-of-the-data-xyzzy"})
    mailer = make_mailer(mail_database, server)
    [refused] = queue_mail(mail_database, "password_changed", "refused@example.com")
    [later] = queue_mail(mail_database, "password_changed", "later@example.com")
    for attempt in range(1, 5):
        wait_for(lambda: rows_where(mail_database, f"attempts = {attempt} AND leased_until IS NULL AND last_error IS NOT NULL AND failed_at IS NULL")
                 + rows_where(mail_database, "failed_at IS NOT NULL") == 2, timeout=30, message=f"attempt {attempt}")
        psql("UPDATE mail_outbox SET next_attempt_at = now() WHERE failed_at IS NULL", url=mail_database)
        wake_mailers(mail_database)
    wait_for(lambda: mail_row(mail_database, later)["attempts"] == 5, timeout=30, message="the fifth attempt")
    given_up, pending = mail_row(mail_database, refused), mail_row(mail_database, later)
    assert given_up["failed"] and given_up["attempts"] == 3 and given_up["variables"] == "{}", given_up
    assert "554" in given_up["last_error"] and "xyzzy" not in given_up["last_error"], given_up
    assert not pending["failed"] and "451" in pending["last_error"] and "xyzzy" not in pending["last_error"], pending
    assert psql("SELECT rejections FROM mail_outbox ORDER BY recipient", url=mail_database).split() == ["0", "3"]
    assert "given up after 3 permanent refusals" in mailer.log() and "xyzzy" not in mailer.log()
    assert server.delivered() == []


def test_the_mailer_reconnects_when_its_database_connection_drops_and_listens_again(mail_database, mail_server, make_mailer):
    mailer = make_mailer(mail_database, mail_server, env=NO_POLL)
    database = mail_database.rsplit("/", 1)[1]
    psql(f"""SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = 'user-service-mailer' AND datname = '{database}'""", url=mail_database)
    mailer.wait_for_log("mailer: ready", count=2)
    assert "database unavailable" in mailer.log()
    wait_until_waiting(mail_database)
    queue_mail(mail_database, "password_changed", "again@example.com")
    mail_server.wait_for_mail("again@example.com", timeout=10)


def test_a_late_failed_mark_leaves_the_mail_to_the_mailer_that_holds_it_now(mail_database, mail_server, make_mailer):
    """The first mailer loses the database between the relay's answer (451) and its mark, and stays away until its
    lease has run out and a second mailer is sending the mail. When it comes back, its deferred mark must not end the
    second mailer's lease (which would let a third send the mail at the same time), and the rest of its batch, still
    leased to it, is released. Each mail is delivered once."""
    role, password = "mailer_" + uuid.uuid4().hex[:10], secrets.token_hex(16)
    psql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'", stdin=True)
    first = None
    try:
        psql(f"GRANT SELECT, UPDATE ON mail_outbox TO {role}; GRANT SELECT, INSERT, UPDATE ON mail_delivery_counters TO {role}",
             url=mail_database)
        first = make_mailer(mail_database.replace("://postgres@", f"://{role}:{password}@", 1), mail_server)
        mail_server.stall()
        queue_mail(mail_database, "password_reset", "late%n@example.com", token="t", expires_in_seconds=3600, count=2)
        mail_server.wait_until_stalled()
        [held] = mail_server.stalled_recipients
        [rest] = {"late1@example.com", "late2@example.com"} - {held}
        second = make_mailer(mail_database, mail_server)  # both mails are the first mailer's: nothing for it yet

        psql(f"ALTER ROLE {role} NOLOGIN; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        mail_server.release(accept=False)  # 451: the first mailer's failed mark cannot be written
        first.wait_for_log("connecting again")
        mail_server.stall()
        psql(f"UPDATE mail_outbox SET leased_until = now() - interval '1 second' WHERE recipient = '{held}'", url=mail_database)
        wake_mailers(mail_database)
        mail_server.wait_until_stalled()  # the second mailer is sending it
        assert mail_server.stalled_recipients == [held]
        lease = psql(f"SELECT leased_until FROM mail_outbox WHERE recipient = '{held}'", url=mail_database)

        psql(f"ALTER ROLE {role} LOGIN")
        first.wait_for_log("wrote 1 marks and 1 releases that the lost database connection had deferred")
        row = psql(f"SELECT leased_until, attempts, coalesce(last_error, '') FROM mail_outbox WHERE recipient = '{held}'",
                   url=mail_database)
        assert row == f"{lease}|2|", row  # still the second mailer's lease, untouched
        # The rest of the first mailer's batch was released, then sent (by it: the second is busy), its attempt counted once.
        mail_server.wait_for_mail(rest)
        wait_for(lambda: rows_where(mail_database, f"recipient = '{rest}' AND sent_at IS NOT NULL AND attempts = 1") == 1,
                 message="the released mail sent")

        mail_server.release(accept=True)
        wait_for(lambda: rows_where(mail_database, "sent_at IS NOT NULL") == 2, message="both marked sent")
        assert sorted(r for d in mail_server.delivered() for r in d.recipients) == sorted([held, rest])
        assert "mailer: sent " in second.log()
    finally:
        if first:
            first.stop(sig=signal.SIGKILL)
        psql(f"REVOKE ALL ON mail_outbox, mail_delivery_counters FROM {role}", url=mail_database, check=False)
        psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'", check=False)
        psql(f"DROP ROLE {role}")


def test_the_mailer_refuses_to_start_without_what_delivery_needs(mail_database, tmp_path):
    def start(**env):
        mailer = Mailer(mail_database, port=25, env=env)
        result = subprocess.run([BIN, "mailer", "--env-file", mailer.env_file], capture_output=True, text=True, timeout=60)
        return result.returncode, result.stderr.strip().splitlines()

    for env, expected in [({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL is required to send mail"),
                          ({"PUBLIC_BASE_URL": "ftp://app.example.com"}, "PUBLIC_BASE_URL must be an http:// or https://"),
                          ({"PUBLIC_BASE_URL": "https://app.example.com/?next=x"}, "PUBLIC_BASE_URL must be"),
                          ({"SMTP_HOST": ""}, "SMTP_HOST is required to send mail"),
                          ({"MAIL_FROM": "no-reply@example.com, victim@example.com"}, "MAIL_FROM must be"),
                          ({"SMTP_USERNAME": "mailer", "SMTP_PASSWORD": "s3cret-smtp"}, "SMTP_USERNAME needs SMTP_SECURITY"),
                          ({"SMTP_SECURITY": "starttls", "SMTP_CA_FILE": str(tmp_path / "none.pem")}, "SMTP_CA_FILE cannot be read"),
                          ({"MAIL_TEMPLATES_DIR": str(tmp_path)}, "password_reset.txt cannot be read")]:
        status, lines = start(**env)
        assert status == 1 and len(lines) == 1 and expected in lines[0], (env, lines)
        assert "s3cret" not in lines[0]


def test_metrics_show_the_outbox_and_cleanup_never_lowers_the_counters(mail_database, make_mail_server, make_mailer, http):
    stack = Stack("mail-metrics", workers=1, database=mail_database, env={"MAIL_RETENTION_DAYS": "7"})
    try:
        def metrics():
            text = http.get(stack.url("/metrics")).text
            return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(user_service_mail_[^ ]+) (\S+)$", text, re.M)}

        port = free_port()
        ids = queue_mail(mail_database, "password_reset", "m%n@example.com", token="t", expires_in_seconds=3600, count=2)
        psql("UPDATE mail_outbox SET created_at = now() - interval '90 seconds'", url=mail_database)
        before = metrics()
        assert before["user_service_mail_outbox_pending"] == 2
        assert 90 <= before["user_service_mail_outbox_oldest_pending_age_seconds"] < 3600
        assert before['user_service_mail_sent_total{kind="password_reset"}'] == 0

        make_mailer(mail_database, port=port)  # nothing listens there: each mail fails once
        wait_for(lambda: rows_where(mail_database, "attempts = 1 AND leased_until IS NULL") == 2, message="failed attempts")
        assert metrics()['user_service_mail_send_failures_total{kind="password_reset"}'] == 2
        server = make_mail_server(port=port)
        psql("UPDATE mail_outbox SET next_attempt_at = now()", url=mail_database)
        wake_mailers(mail_database)
        server.wait_for_deliveries(2)
        wait_for(lambda: metrics()['user_service_mail_sent_total{kind="password_reset"}'] == 2, message="sent counted")
        after = metrics()
        assert after["user_service_mail_outbox_pending"] == 0 and after["user_service_mail_outbox_oldest_pending_age_seconds"] == 0

        # cleanup: sent mail older than MAIL_RETENTION_DAYS goes, pending mail stays, the counters stay.
        [pending] = queue_mail(mail_database, "password_changed", "later@example.com", count=1)
        psql(f"UPDATE mail_outbox SET sent_at = now() - interval '8 days' WHERE id = '{ids[0]}'", url=mail_database)
        result = subprocess.run([BIN, "cleanup", "--env-file", stack.env_file], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and "1 mails" in result.stderr, result.stderr
        assert psql("SELECT id FROM mail_outbox ORDER BY id", url=mail_database).split() == sorted([ids[1], pending])
        assert metrics()['user_service_mail_sent_total{kind="password_reset"}'] == 2
    finally:
        stack.stop()
