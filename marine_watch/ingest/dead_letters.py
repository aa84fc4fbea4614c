"""Dead letters: payloads that could not become readings, kept with topic, time, raw bytes and reason.

Stored in a local SQLite file (WAL, synchronous=FULL) so that a dead letter is durable before its
MQTT message is acknowledged, whichever store holds the readings.

Bounded, so a flood of junk can neither fill the disk nor hold up good readings:

- **Batched writes.** Letters go to a bounded queue; one flusher writes everything queued in one
  transaction (one fsync per batch, not per letter), then runs each letter's ``on_durable``
  (the MQTT acknowledgement). :meth:`DeadLetters.add` waits for that; ingest uses
  :meth:`DeadLetters.submit`, which returns once the letter is queued, so it moves on to the next
  message while the batch is written.
- **Retention.** After each batch, letters older than ``max_age_s`` and all but the newest
  ``max_rows`` are deleted (the file's pages are then reused); raw bytes are capped at
  ``MAX_RAW_BYTES`` per letter. Counts per reason are in ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from marine_watch.store.sqlite_file import SqliteFile

MAX_RAW_BYTES = 4096
MAX_BATCH = 1_000  # letters per transaction
QUEUE = 10_000  # letters waiting for the flusher; submit() waits when it is full


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected payload (or batch item)."""

    topic: str
    received_s: float
    reason: str
    detail: str
    raw: bytes
    size: int


@dataclass(slots=True)
class _Pending:
    letters: list[DeadLetter]
    on_durable: Callable[[], None] | None = None
    done: asyncio.Future[None] | None = field(default=None)


class DeadLetters:
    """The dead-letter table: batched, durable writes and bounded retention on one thread."""

    def __init__(
        self, path: Path, *, max_rows: int = 50_000, max_age_s: float = 30 * 86_400.0
    ) -> None:
        self._path = path
        self._max_rows = max_rows
        self._max_age_s = max_age_s
        self._sql = SqliteFile(path, "deadletters")
        self._queue: asyncio.Queue[_Pending] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.pruned = 0  # letters deleted by retention since start
        self.batches = 0  # transactions written since start

    async def open(self) -> None:
        """Open the database and start the task that writes queued dead letters in batches."""
        await self._sql.run(self._open)
        self._queue = asyncio.Queue(QUEUE)
        self._flusher = asyncio.create_task(self._flush_forever(), name="deadletters")

    def _open(self, db: sqlite3.Connection) -> None:
        db.execute(
            "CREATE TABLE IF NOT EXISTS dead_letter (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT,"
            " received_s REAL, reason TEXT, detail TEXT, raw BLOB, size INTEGER)"
        )
        db.execute("CREATE INDEX IF NOT EXISTS dead_letter_reason ON dead_letter (reason, id)")
        db.execute("CREATE INDEX IF NOT EXISTS dead_letter_received ON dead_letter (received_s)")
        db.commit()

    async def add(self, letters: list[DeadLetter]) -> None:
        """Store dead letters durably: return once their batch is committed."""
        if not letters:
            return
        done = asyncio.get_running_loop().create_future()
        await self._put(_Pending(letters, None, done))
        await done

    async def submit(self, letters: list[DeadLetter], on_durable: Callable[[], None]) -> None:
        """Queue dead letters; ``on_durable`` runs once they are committed. Waits only while the
        queue is full (backpressure), never for the write itself."""
        await self._put(_Pending(letters, on_durable))

    async def _put(self, pending: _Pending) -> None:
        if self._queue is None:
            msg = "dead letters are not open"
            raise RuntimeError(msg)
        await self._queue.put(pending)

    async def _flush_forever(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            n = len(batch[0].letters)
            while n < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
                n += len(batch[-1].letters)
            await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        letters = [d for p in batch for d in p.letters]
        while True:
            try:
                self.pruned += await self._sql.run(self._add, letters, time.time())
                self.batches += 1
                break
            except sqlite3.Error as exc:  # disk full or I/O: keep the batch, try again
                for p in batch:
                    if p.done is not None and not p.done.done():
                        p.done.set_exception(exc)
                batch = [p for p in batch if p.done is None]
                if not batch:
                    return
                letters = [d for p in batch for d in p.letters]
                await asyncio.sleep(1.0)
        for p in batch:
            if p.on_durable is not None:
                p.on_durable()
            if p.done is not None and not p.done.done():
                p.done.set_result(None)

    def _add(self, db: sqlite3.Connection, letters: list[DeadLetter], now_s: float) -> int:
        """Insert the batch in one transaction and apply retention; return how many were pruned."""
        rows = [
            (d.topic, d.received_s, d.reason, d.detail[:500], d.raw[:MAX_RAW_BYTES], d.size)
            for d in letters
        ]
        with db:
            db.executemany(
                "INSERT INTO dead_letter (topic, received_s, reason, detail, raw, size)"
                " VALUES (?,?,?,?,?,?)",
                rows,
            )
            old = db.execute(
                "DELETE FROM dead_letter WHERE received_s < ?", (now_s - self._max_age_s,)
            ).rowcount
            many = db.execute(
                "DELETE FROM dead_letter WHERE id <= (SELECT max(id) FROM dead_letter) - ?",
                (self._max_rows,),
            ).rowcount
        return old + many

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
        """How many dead letters are stored."""
        return await self._sql.run(self._count)

    def _count(self, db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT count(*) FROM dead_letter").fetchone()[0])

    async def counts(self) -> dict[str, int]:
        """Stored dead letters per reason."""
        return await self._sql.run(self._counts)

    def _counts(self, db: sqlite3.Connection) -> dict[str, int]:
        rows = db.execute("SELECT reason, count(*) FROM dead_letter GROUP BY reason")
        return {str(reason): int(n) for reason, n in rows}

    async def close(self) -> None:
        """Stop the flusher, write what is still queued, close the database."""
        if self._flusher is not None:
            assert self._queue is not None
            pending: list[_Pending] = []
            while not self._queue.empty():
                pending.append(self._queue.get_nowait())
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
            if pending and not self._sql.closed:
                await self._write(pending)
        await self._sql.close()
