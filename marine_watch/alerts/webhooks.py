"""Signed webhooks to emergency teams: subscriptions per zone and tier, durable deliveries, retries.

Every delivery is written to SQLite (data_dir/webhooks.sqlite3) before anything is sent: the table
is the disk spool (nothing dropped when a receiver is down or on restart). The sender takes at most
``webhook_queue`` due deliveries at a time, retries with backoff and jitter up to
``webhook_max_attempts``, then marks it ``failed`` (``redeliver`` puts it back). Attempts are logged.

Signature (also used to verify signed acknowledgements coming back):
``X-MarineWatch-Signature: sha256=HEX(HMAC-SHA256(secret, f"{timestamp}." + body))`` with
``X-MarineWatch-Timestamp`` in Unix seconds; receivers reject stale timestamps and repeats.
"""

import asyncio
import contextlib
import json
import random
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog

from marine_watch.alerts.book import AlertMessage
from marine_watch.alerts.signing import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ReplayGuard,
    sign,
)
from marine_watch.store.sqlite_file import SqliteFile

__all__ = [  # the signing scheme is re-exported: receivers and tests import it from here
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Policy",
    "ReplayGuard",
    "Sender",
    "Subscription",
    "WebhookStore",
    "sign",
]
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Subscription:
    """Where a team wants alerts: zones, tiers, hazards (empty = all) and a minimum colour."""

    id: str
    owner: str
    url: str
    zones: tuple[str, ...]
    tiers: tuple[str, ...]
    subjects: tuple[str, ...]  # "zone", "station"
    secret: str
    created_s: float
    hazards: tuple[str, ...] = ()
    min_level: int = 0  # zone messages below it are not sent (a Cancel always is)

    def wants(self, message: AlertMessage) -> bool:
        # a Cancel passes hazard and colour: the all-clear of whatever the alert was about
        """Whether this subscription's filters (subject, zones, tiers, hazards, level) take the message."""
        free = message.subject.value != "zone" or message.msg_type.value == "Cancel"
        hazard = (message.explanation or {}).get("hazard")
        return (
            message.subject.value in self.subjects
            and (not self.zones or message.subject_id in self.zones)
            and (not self.tiers or message.tier in self.tiers)
            and (free or not self.hazards or hazard in self.hazards)
            and (free or message.level >= self.min_level)
        )

    def public(self) -> dict[str, object]:
        """Without the secret."""
        return {
            "id": self.id,
            "owner": self.owner,
            "url": self.url,
            "zones": list(self.zones),
            "tiers": list(self.tiers),
            "subjects": list(self.subjects),
            "hazards": list(self.hazards),
            "min_level": self.min_level,
            "created_s": self.created_s,
        }


@dataclass(frozen=True, slots=True)
class Policy:
    """Retry and size limits of the sender."""

    timeout_s: float
    max_attempts: int
    backoff_s: float
    backoff_max_s: float
    batch: int


_SUB_COLS = "id, owner, url, zones, tiers, subjects, secret, created_s, hazards, min_level"


class WebhookStore:
    """Subscriptions, deliveries and the attempt log, on one SQLite thread."""

    def __init__(self, path: Path) -> None:
        self._sql = SqliteFile(path, "webhooks")
        self.subscriptions: dict[str, Subscription] = {}

    async def open(self) -> None:
        """Open the database and load the active subscriptions."""
        await self._sql.run(self._open)

    def _open(self, db: sqlite3.Connection) -> None:
        db.execute(
            f"CREATE TABLE IF NOT EXISTS subscription ({_SUB_COLS}, active INTEGER DEFAULT 1)"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS delivery (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " subscription TEXT, identifier TEXT, body BLOB, status TEXT, attempts INTEGER,"
            " next_at_s REAL, last_error TEXT, created_s REAL, delivered_s REAL)"
        )
        db.execute("CREATE INDEX IF NOT EXISTS delivery_due ON delivery (status, next_at_s)")
        if "key" not in {row[1] for row in db.execute("PRAGMA table_info(delivery)")}:
            db.execute("ALTER TABLE delivery ADD COLUMN key TEXT")  # escalations: once per key
        db.execute("CREATE UNIQUE INDEX IF NOT EXISTS delivery_key ON delivery (key)")
        db.execute(
            "CREATE TABLE IF NOT EXISTS attempt (delivery INTEGER, ts_s REAL, http_status INTEGER,"
            " error TEXT, ms REAL)"
        )
        db.commit()
        have = {row[1] for row in db.execute("PRAGMA table_info(subscription)")}
        for column in ("hazards TEXT", "min_level INTEGER"):  # added later: older files lack them
            if column.split()[0] not in have:
                db.execute(f"ALTER TABLE subscription ADD COLUMN {column}")
        rows = db.execute(f"SELECT {_SUB_COLS} FROM subscription WHERE active = 1")  # noqa: S608 - column names are constants
        self.subscriptions = {r[0]: _subscription(r) for r in rows}

    async def subscribe(  # noqa: PLR0917 - tests/marine_watch/alerts call it positionally
        self,
        owner: str,
        url: str,
        zones: tuple[str, ...],
        tiers: tuple[str, ...],
        subjects: tuple[str, ...],
        hazards: tuple[str, ...] = (),
        min_level: int = 0,
    ) -> Subscription:
        """Add a subscription with a fresh id and signing secret; stored before it is returned."""
        sub = Subscription(
            "wh_" + secrets.token_hex(8),
            owner,
            url,
            zones,
            tiers,
            subjects,
            secrets.token_urlsafe(32),
            time.time(),
            hazards,
            min_level,
        )
        await self._sql.run(self._insert_sub, sub)
        self.subscriptions[sub.id] = sub
        return sub

    def _insert_sub(self, db: sqlite3.Connection, s: Subscription) -> None:
        db.execute(
            f"INSERT INTO subscription ({_SUB_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608 - column names are constants
            (
                s.id,
                s.owner,
                s.url,
                json.dumps(s.zones),
                json.dumps(s.tiers),
                json.dumps(s.subjects),
                s.secret,
                s.created_s,
                json.dumps(s.hazards),
                s.min_level,
            ),
        )
        db.commit()

    async def unsubscribe(self, sub_id: str) -> None:
        """Stop deliveries to ``sub_id``; its row stays, marked inactive."""
        self.subscriptions.pop(sub_id, None)
        await self._sql.run(self._deactivate, sub_id)

    def _deactivate(self, db: sqlite3.Connection, sub_id: str) -> None:
        db.execute("UPDATE subscription SET active = 0 WHERE id = ?", (sub_id,))
        db.commit()

    async def enqueue(self, message: AlertMessage, body: bytes) -> int:
        """Spool one delivery per interested subscription; return how many."""
        targets = [s.id for s in self.subscriptions.values() if s.wants(message)]
        if targets:
            await self._sql.run(self._enqueue, targets, message.identifier, body, None)
        return len(targets)

    async def enqueue_to(self, sub_ids: list[str], identifier: str, body: bytes, key: str) -> int:
        """Spool to the given subscriptions once per ``key:subscription``; return how many new."""
        targets = [i for i in sub_ids if i in self.subscriptions]
        return await self._sql.run(self._enqueue, targets, identifier, body, key) if targets else 0

    def _enqueue(
        self,
        db: sqlite3.Connection,
        targets: list[str],
        identifier: str,
        body: bytes,
        key: str | None,
    ) -> int:
        now, before = time.time(), db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO delivery (subscription, identifier, body, status, attempts,"
            " next_at_s, created_s, key) VALUES (?,?,?,'pending',0,?,?,?)",
            [(t, identifier, body, now, now, key and f"{key}:{t}") for t in targets],
        )
        db.commit()
        return int(db.total_changes - before)

    async def due(self, now_s: float, limit: int) -> list[tuple[int, str, bytes, int]]:
        """(id, subscription, body, attempts) of pending deliveries whose time has come."""
        return await self._sql.run(self._due, now_s, limit)

    def _due(
        self, db: sqlite3.Connection, now_s: float, limit: int
    ) -> list[tuple[int, str, bytes, int]]:
        rows = db.execute(
            "SELECT id, subscription, body, attempts FROM delivery WHERE status = 'pending'"
            " AND next_at_s <= ? ORDER BY id LIMIT ?",
            (now_s, limit),
        )
        return [(int(r[0]), str(r[1]), bytes(r[2]), int(r[3])) for r in rows]

    async def next_due_s(self) -> float | None:
        """When the next pending delivery falls due; None when none waits."""
        return await self._sql.run(self._next_due)

    def _next_due(self, db: sqlite3.Connection) -> float | None:
        row = db.execute("SELECT min(next_at_s) FROM delivery WHERE status = 'pending'").fetchone()
        return None if row[0] is None else float(row[0])

    async def record(  # noqa: PLR0917 - one attempt row's columns, in table order
        self,
        delivery: int,
        status: str,
        attempts: int,
        next_at_s: float,
        http_status: int | None,
        error: str | None,
        ms: float,
    ) -> None:
        """Store the outcome of one attempt: status, attempts, next try, HTTP status, error, duration."""
        await self._sql.run(
            self._record, delivery, status, attempts, next_at_s, http_status, error, ms
        )

    def _record(  # noqa: PLR0917 - one attempt row's columns, in table order
        self,
        db: sqlite3.Connection,
        delivery: int,
        status: str,
        attempts: int,
        next_at_s: float,
        http_status: int | None,
        error: str | None,
        ms: float,
    ) -> None:
        now = time.time()
        db.execute(
            "UPDATE delivery SET status = ?, attempts = ?, next_at_s = ?, last_error = ?,"
            " delivered_s = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_s END WHERE id = ?",
            (status, attempts, next_at_s, error, status, now, delivery),
        )
        db.execute(
            "INSERT INTO attempt VALUES (?,?,?,?,?)", (delivery, now, http_status, error, ms)
        )
        db.commit()

    async def log(self, sub_id: str, limit: int = 100) -> list[dict[str, object]]:
        """Deliveries of a subscription, newest first, with their attempts."""
        return await self._sql.run(self._log, sub_id, limit)

    def _log(self, db: sqlite3.Connection, sub_id: str, limit: int) -> list[dict[str, object]]:
        cols = ("id", "identifier", "status", "attempts", "last_error", "created_s", "delivered_s")
        rows = db.execute(
            f"SELECT {', '.join(cols)} FROM delivery WHERE subscription = ? ORDER BY id DESC LIMIT ?",  # noqa: S608 - column names are constants
            (sub_id, limit),
        ).fetchall()
        out = []
        for row in rows:
            item: dict[str, object] = dict(zip(cols, row, strict=True))
            tries = db.execute(
                "SELECT ts_s, http_status, error, ms FROM attempt WHERE delivery = ?", (row[0],)
            )
            item["log"] = [
                dict(zip(("ts_s", "http_status", "error", "ms"), t, strict=True)) for t in tries
            ]
            out.append(item)
        return out

    async def redeliver(self, sub_id: str) -> int:
        """Put a subscription's failed deliveries back in the queue; return how many."""
        return await self._sql.run(self._redeliver, sub_id)

    def _redeliver(self, db: sqlite3.Connection, sub_id: str) -> int:
        n = db.execute(
            "UPDATE delivery SET status = 'pending', attempts = 0, next_at_s = ? WHERE subscription = ? AND status = 'failed'",
            (time.time(), sub_id),
        ).rowcount
        db.commit()
        return int(n)

    async def close(self) -> None:
        """Close the webhook database."""
        await self._sql.close()


def _subscription(row: tuple[object, ...]) -> Subscription:
    sid, owner, url, zones, tiers, subjects, secret, created, hazards, min_level = row
    return Subscription(
        str(sid),
        str(owner),
        str(url),
        tuple(json.loads(str(zones))),
        tuple(json.loads(str(tiers))),
        tuple(json.loads(str(subjects))),
        str(secret),
        float(str(created)),
        tuple(json.loads(str(hazards))) if hazards else (),
        int(str(min_level)) if min_level is not None else 0,
    )


class Sender:
    """The delivery worker: sends due deliveries, signs them, retries with backoff."""

    def __init__(self, store: WebhookStore, http: httpx.AsyncClient, policy: Policy) -> None:
        self._store = store
        self._http = http
        self._policy = policy
        self.wake = asyncio.Event()

    async def run(self) -> None:
        """Send due deliveries until cancelled, sleeping until the next is due or ``wake`` is set."""
        while True:
            batch = await self._store.due(time.time(), self._policy.batch)
            if batch:
                await asyncio.gather(*(self._send(*d) for d in batch))
                continue
            next_s = await self._store.next_due_s()
            wait_s = 5.0 if next_s is None else min(5.0, max(0.0, next_s - time.time()))
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), wait_s)

    async def _send(self, delivery: int, sub_id: str, body: bytes, attempts: int) -> None:
        sub = self._store.subscriptions.get(sub_id)
        if sub is None:  # unsubscribed since: keep the row, stop trying
            await self._store.record(
                delivery, "cancelled", attempts, 0.0, None, "unsubscribed", 0.0
            )
            return
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(sub.secret, ts, body),
            DELIVERY_HEADER: str(delivery),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = await self._http.post(sub.url, content=body, headers=headers)
            status = response.status_code
            if not response.is_success:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        ms = round((time.perf_counter() - started) * 1e3, 1)
        attempts += 1
        if error is None:
            await self._store.record(delivery, "delivered", attempts, 0.0, status, None, ms)
            return
        delay = min(self._policy.backoff_max_s, self._policy.backoff_s * 2 ** (attempts - 1))
        delay *= 1 + random.random() / 2  # noqa: S311 - jitter, not a secret: receivers back up together otherwise
        state = "failed" if attempts >= self._policy.max_attempts else "pending"
        await self._store.record(delivery, state, attempts, time.time() + delay, status, error, ms)
        log.warning(
            "webhook_failed", subscription=sub_id, attempts=attempts, error=error, state=state
        )
