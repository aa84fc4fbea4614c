"""The e-mail sender against a real SMTP server: STARTTLS or nothing, a verified certificate."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from marine_watch.alerts.mailer import Mail, Mailer, MailStore
from marine_watch.settings import Settings
from tests.security.certs import make_pki
from tests.smtp import smtp_server

USER, PASSWORD = "mw", "mail-secret"
MAIL = Mail("mw-1:alert:t:duty@team.invalid", "t", "duty@team.invalid", "mw-1", "Red", "body")


async def _run(store: MailStore, settings: Settings, until_s: float = 3.0) -> None:
    mailer = Mailer(store, settings)
    task = asyncio.create_task(mailer.run())
    try:
        async with asyncio.timeout(until_s):
            while True:
                rows = await store.of_alert("mw-1")
                if rows and (rows[0]["status"] == "sent" or rows[0]["last_error"]):
                    return
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _settings(tmp_path: Path, port: int, ca: Path) -> Settings:
    return Settings(
        config_dir=tmp_path,
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_username=USER,
        smtp_password=PASSWORD,
        smtp_ca_file=ca,
        smtp_max_attempts=1,
    )


async def test_sent_over_starttls_once_with_a_stable_message_id(tmp_path: Path) -> None:
    with smtp_server(tmp_path, USER, PASSWORD) as smtp:
        store = MailStore(tmp_path / "mail.sqlite3")
        await store.open()
        await store.enqueue([MAIL])
        await _run(store, _settings(tmp_path, smtp.port, smtp.pki.ca))
        rows = await store.of_alert("mw-1")
        assert rows[0]["status"] == "sent"
        got = smtp.inbox.to("duty@team.invalid")
        assert len(got) == 1
        assert got[0].tls
        assert got[0].message["Message-ID"].startswith("<")
        assert await store.enqueue([MAIL]) == 0  # queued again: nothing new, nothing resent
        await store.close()


async def test_a_server_without_starttls_gets_nothing(tmp_path: Path) -> None:
    """No plain-text fallback: the e-mail fails with the reason, the server receives nothing."""
    with smtp_server(tmp_path, USER, PASSWORD, starttls=False) as smtp:
        store = MailStore(tmp_path / "mail.sqlite3")
        await store.open()
        await store.enqueue([MAIL])
        await _run(store, _settings(tmp_path, smtp.port, smtp.pki.ca))
        row = (await store.of_alert("mw-1"))[0]
        assert row["status"] == "failed"
        assert "STARTTLS" in str(row["last_error"]).upper()
        assert PASSWORD not in str(row["last_error"])
        assert smtp.inbox.received == []
        await store.close()


async def test_a_certificate_from_another_ca_is_refused(tmp_path: Path) -> None:
    """The server's certificate must chain to the configured CA: another CA, nothing sent."""
    other = make_pki(tmp_path / "other")
    with smtp_server(tmp_path, USER, PASSWORD) as smtp:
        store = MailStore(tmp_path / "mail.sqlite3")
        await store.open()
        await store.enqueue([MAIL])
        await _run(store, _settings(tmp_path, smtp.port, other.ca))
        row = (await store.of_alert("mw-1"))[0]
        assert row["status"] == "failed"
        assert "CERTIFICATE" in str(row["last_error"]).upper()
        assert smtp.inbox.received == []
        await store.close()
