"""Dead letters: payloads that could not become readings, kept with topic, time, raw bytes and reason.

Stored in a local SQLite file (WAL, synchronous=FULL) so that a dead letter is durable before its
MQTT message is acknowledged, whichever store holds the readings.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from marine_watch.serial import SqliteFile

MAX_RAW_BYTES = 4096


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected payload (or batch item)."""

    topic: str
    received_s: float
    reason: str
    detail: str
    raw: bytes
    size: int


class DeadLetters:
    """Append-only dead-letter table on a single-thread executor."""

    def __init__(self, path: Path) -> None:
        self._sql = SqliteFile(path, "deadletters")

    async def open(self) -> None:
        await self._sql.run(self._open)

    def _open(self, db: sqlite3.Connection) -> None:
        db.execute(
            "CREATE TABLE IF NOT EXISTS dead_letter (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT,"
            " received_s REAL, reason TEXT, detail TEXT, raw BLOB, size INTEGER)"
        )
        db.execute("CREATE INDEX IF NOT EXISTS dead_letter_reason ON dead_letter (reason, id)")
        db.commit()

    async def add(self, letters: list[DeadLetter]) -> None:
        """Store dead letters durably (raw bytes capped at MAX_RAW_BYTES, full size kept)."""
        if letters:
            await self._sql.run(self._add, letters)

    def _add(self, db: sqlite3.Connection, letters: list[DeadLetter]) -> None:
        rows = [
            (d.topic, d.received_s, d.reason, d.detail[:500], d.raw[:MAX_RAW_BYTES], d.size)
            for d in letters
        ]
        db.executemany(
            "INSERT INTO dead_letter (topic, received_s, reason, detail, raw, size) VALUES (?,?,?,?,?,?)",
            rows,
        )
        db.commit()

    async def query(
        self, *, reason: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[dict[str, object]]:
        """Newest first, optionally of one reason, paginated by id."""
        return await self._sql.run(self._query, reason, limit, before_id)

    def _query(
        self, db: sqlite3.Connection, reason: str | None, limit: int, before_id: int | None
    ) -> list[dict[str, object]]:
        sql = "SELECT id, topic, received_s, reason, detail, raw, size FROM dead_letter WHERE 1=1"
        args: list[object] = []
        if reason:
            sql += " AND reason = ?"
            args.append(reason)
        if before_id is not None:
            sql += " AND id < ?"
            args.append(before_id)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        cols = ("id", "topic", "received_s", "reason", "detail", "raw", "size")
        out = []
        for row in db.execute(sql, args):
            item = dict(zip(cols, row, strict=True))
            item["raw"] = bytes(row[5]).decode("utf-8", errors="replace")
            out.append(item)
        return out

    async def count(self) -> int:
        return await self._sql.run(self._count)

    def _count(self, db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT count(*) FROM dead_letter").fetchone()[0])

    async def close(self) -> None:
        await self._sql.close()
