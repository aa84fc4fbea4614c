"""Append-only disk spool for batches the store could not take; replayed in order when it recovers.

SQLite in WAL mode with synchronous=FULL: an append returns only once the batch is on disk, so a
reading can be acknowledged to the broker once it is spooled. Replays are safe to repeat because
store writes are idempotent (point key = station, kind, ts).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from marine_watch.errors import SpoolError
from marine_watch.store.sqlite_file import SqliteFile
from sensors.reading import Reading


def encode_batch(readings: Sequence[Reading]) -> bytes:
    """Compact JSON rows: [station, kind, ts_ns, value, qc]."""
    return json.dumps([[r.station, r.kind, r.ts_ns, r.value, r.qc] for r in readings]).encode()


def decode_batch(blob: bytes) -> list[Reading]:
    """Inverse of encode_batch."""
    return [Reading(s, k, int(t), float(v), q) for s, k, t, v, q in json.loads(blob)]


class Spool:
    """FIFO of batches on disk."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._sql = SqliteFile(path, "spool")
        self.pending = 0

    async def open(self) -> None:
        """Open the spool and count the pending readings; SpoolError if it cannot be opened."""
        try:
            self.pending = await self._sql.run(self._open)
        except (sqlite3.Error, OSError) as exc:
            msg = f"cannot open spool {self._path}: {exc}"
            raise SpoolError(msg) from exc

    def _open(self, db: sqlite3.Connection) -> int:
        db.execute(
            "CREATE TABLE IF NOT EXISTS batch (id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL)"
        )
        db.commit()
        return int(db.execute("SELECT count(*) FROM batch").fetchone()[0])

    async def append(self, readings: Sequence[Reading]) -> None:
        """Write one batch durably; SpoolError if the disk refuses."""
        body = encode_batch(readings)
        try:
            await self._sql.run(self._append, body)
        except (sqlite3.Error, OSError) as exc:
            msg = f"spool {self._path} not writable: {exc}"
            raise SpoolError(msg) from exc
        self.pending += 1

    def _append(self, db: sqlite3.Connection, body: bytes) -> None:
        db.execute("INSERT INTO batch (body) VALUES (?)", (body,))
        db.commit()

    async def oldest(self) -> tuple[int, list[Reading]] | None:
        """The oldest batch and its id, or None when empty."""
        row = await self._sql.run(self._oldest)
        return None if row is None else (row[0], decode_batch(row[1]))

    def _oldest(self, db: sqlite3.Connection) -> tuple[int, bytes] | None:
        row = db.execute("SELECT id, body FROM batch ORDER BY id LIMIT 1").fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    async def remove(self, batch_id: int) -> None:
        """Drop a batch once the store has it."""
        await self._sql.run(self._remove, batch_id)
        self.pending = max(0, self.pending - 1)

    def _remove(self, db: sqlite3.Connection, batch_id: int) -> None:
        db.execute("DELETE FROM batch WHERE id = ?", (batch_id,))
        db.commit()

    async def close(self) -> None:
        """Close the spool database."""
        await self._sql.close()
