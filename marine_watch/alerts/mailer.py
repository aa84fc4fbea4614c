"""The e-mail channel: a durable outbox in SQLite and a sender over SMTP with STARTTLS.

Every e-mail has a key (alert identifier, why, team, address). The key is the outbox's primary key,
written before anything is sent: a second enqueue with the same key (a retry, a restart, a second
node replaying the same escalation) adds nothing, so each key is sent at most once by this
outbox. Its Message-ID is derived from the key, so a receiver that saw it already can drop a
repeat after a crash between the server's acceptance and the outbox's "sent" mark.

The sender always upgrades with STARTTLS and verifies the server's certificate and host name
(``smtp_ca_file`` or the system CAs); a server that does not offer STARTTLS is an error, never a
plain-text fallback. Attempts are logged with the key, team and outcome, never the password.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import sqlite3
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import aiosmtplib
import structlog

from marine_watch.settings import Settings
from marine_watch.store.sqlite_file import SqliteFile

log = structlog.get_logger(__name__)
BACKOFF_S = 2.0
BACKOFF_MAX_S = 600.0


@dataclass(frozen=True, slots=True)
class Mail:
    """One e-mail to send."""

    key: str
    team: str
    address: str
    identifier: str
    subject: str
    body: str


class MailStore:
    """The outbox: one row per key, with its status and every attempt."""

    def __init__(self, path: Path) -> None:
        self._sql = SqliteFile(path, "mail", setup=_schema)

    async def open(self) -> None:
        """Open the outbox database (created on first use)."""
        await self._sql.open()

    async def enqueue(self, mails: list[Mail]) -> int:
        """Add the mails whose key is new; return how many were new."""
        if not mails:
            return 0
        return await self._sql.run(self._enqueue, mails)

    def _enqueue(self, db: sqlite3.Connection, mails: list[Mail]) -> int:
        now, before = time.time(), db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO mail (key, team, address, identifier, subject, body, status,"
            " attempts, next_at_s, created_s) VALUES (?,?,?,?,?,?,'pending',0,?,?)",
            [(m.key, m.team, m.address, m.identifier, m.subject, m.body, now, now) for m in mails],
        )
        db.commit()
        return int(db.total_changes - before)

    async def due(self, now_s: float, limit: int) -> list[tuple[Mail, int]]:
        """Up to ``limit`` e-mails due at ``now_s``, each with its attempts so far."""
        return await self._sql.run(self._due, now_s, limit)

    def _due(self, db: sqlite3.Connection, now_s: float, limit: int) -> list[tuple[Mail, int]]:
        rows = db.execute(
            "SELECT key, team, address, identifier, subject, body, attempts FROM mail"
            " WHERE status = 'pending' AND next_at_s <= ? ORDER BY created_s LIMIT ?",
            (now_s, limit),
        ).fetchall()
        return [(Mail(*(str(x) for x in r[:6])), int(r[6])) for r in rows]

    async def next_due_s(self) -> float | None:
        """When the next pending e-mail falls due; None when none waits."""
        return await self._sql.run(self._next_due)

    def _next_due(self, db: sqlite3.Connection) -> float | None:
        row = db.execute("SELECT min(next_at_s) FROM mail WHERE status = 'pending'").fetchone()
        return None if row[0] is None else float(row[0])

    async def record(  # noqa: PLR0917 - tests/marine_watch/alerts/test_teams.py calls it positionally
        self, key: str, status: str, attempts: int, next_at_s: float, error: str | None, ms: float
    ) -> None:
        """Store the outcome of one attempt: status, attempts, next try, error and duration."""
        await self._sql.run(
            self._record, key, status, attempts, next_at_s=next_at_s, error=error, ms=ms
        )

    def _record(
        self,
        db: sqlite3.Connection,
        key: str,
        status: str,
        attempts: int,
        *,
        next_at_s: float,
        error: str | None,
        ms: float,
    ) -> None:
        now = time.time()
        db.execute(
            "UPDATE mail SET status = ?, attempts = ?, next_at_s = ?, last_error = ?,"
            " sent_s = CASE WHEN ? = 'sent' THEN ? ELSE sent_s END WHERE key = ?",
            (status, attempts, next_at_s, error, status, now, key),
        )
        db.execute("INSERT INTO mail_attempt VALUES (?,?,?,?)", (key, now, error, ms))
        db.commit()

    async def of_alert(self, identifier: str) -> list[dict[str, object]]:
        """The e-mails of one alert message: key, team, address, status, attempts."""
        return await self._sql.run(self._of_alert, identifier)

    def _of_alert(self, db: sqlite3.Connection, identifier: str) -> list[dict[str, object]]:
        cols = ("key", "team", "address", "status", "attempts", "last_error", "sent_s")
        rows = db.execute(
            f"SELECT {', '.join(cols)} FROM mail WHERE identifier = ? ORDER BY created_s",  # noqa: S608 - column names are constants
            (identifier,),
        ).fetchall()
        return [dict(zip(cols, r, strict=True)) for r in rows]

    async def close(self) -> None:
        """Close the outbox database."""
        await self._sql.close()


def _schema(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS mail (key TEXT PRIMARY KEY, team TEXT, address TEXT,"
        " identifier TEXT, subject TEXT, body TEXT, status TEXT, attempts INTEGER,"
        " next_at_s REAL, last_error TEXT, created_s REAL, sent_s REAL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS mail_due ON mail (status, next_at_s)")
    db.execute("CREATE INDEX IF NOT EXISTS mail_alert ON mail (identifier)")
    db.execute("CREATE TABLE IF NOT EXISTS mail_attempt (key TEXT, ts_s REAL, error TEXT, ms REAL)")


def message_id(key: str, sender: str) -> str:
    """A Message-ID fixed by the key: the same e-mail always carries the same id."""
    domain = sender.rpartition("@")[2] or "marine-watch.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate and host name verified; the given CA bundle or the system's."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Mailer:
    """The sending worker: due e-mails over SMTP with STARTTLS, retried with backoff."""

    def __init__(self, store: MailStore, settings: Settings, batch: int = 50) -> None:
        self._store = store
        self._s = settings
        self._batch = batch
        self._tls = tls_context(settings.smtp_ca_file) if settings.smtp_host else None
        self.wake = asyncio.Event()

    @property
    def enabled(self) -> bool:
        """Whether an SMTP host is configured; without one e-mails wait in the outbox."""
        return self._s.smtp_host is not None

    async def run(self) -> None:
        """Send due e-mails until cancelled, sleeping until the next is due or ``wake`` is set."""
        if not self.enabled:
            log.info("email_channel_off", reason="smtp_host is not set; e-mails wait in the outbox")
            return
        while True:
            batch = await self._store.due(time.time(), self._batch)
            for mail, attempts in batch:
                await self._send(mail, attempts)
            if batch:
                continue
            next_s = await self._store.next_due_s()
            wait_s = 5.0 if next_s is None else min(5.0, max(0.0, next_s - time.time()))
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), wait_s)

    def _compose(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._s.smtp_from
        message["To"] = mail.address
        message["Subject"] = mail.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id(mail.key, self._s.smtp_from)
        message["X-MarineWatch-Alert"] = mail.identifier
        message.set_content(mail.body)
        return message

    async def _send(self, mail: Mail, attempts: int) -> None:
        s = self._s
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        started = time.perf_counter()
        error: str | None = None
        try:
            message = self._compose(mail)  # ValueError for a header it cannot encode
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=password,
                start_tls=True,  # required: no plain-text fallback
                tls_context=self._tls,
                timeout=s.smtp_timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
            if password:
                error = error.replace(password, "***")
        ms = round((time.perf_counter() - started) * 1e3, 1)
        attempts += 1
        if error is None:
            await self._store.record(mail.key, "sent", attempts, 0.0, None, ms)
            log.info("email_sent", key=mail.key, team=mail.team, attempts=attempts, ms=ms)
            return
        delay = min(BACKOFF_MAX_S, BACKOFF_S * 2 ** (attempts - 1)) * (1 + random.random() / 2)  # noqa: S311 - retry jitter, not a secret
        state = "failed" if attempts >= s.smtp_max_attempts else "pending"
        await self._store.record(mail.key, state, attempts, time.time() + delay, error, ms)
        log.warning("email_failed", key=mail.key, team=mail.team, attempts=attempts, error=error)
