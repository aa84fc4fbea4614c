"""SQLite store: the embedded default, with the same contract as the InfluxDB store.

``sqlite3`` blocks, so every call runs on a dedicated thread (STYLE.md rule 10): writes on the
writer thread with its connection, reads (queries, counts) on a reader thread with a connection of
its own, so a heavy read never delays the storing of new readings (WAL lets readers and the
writer run at once). Each connection is opened on its thread and never leaves it. A point is keyed by (station, kind, ts_ns) and a rewrite
upserts it. Downsampling groups by (bucket, kind, qc) with buckets aligned to the epoch and stamped
with their start, as InfluxDB's ``GROUP BY time(Ns), "kind", "qc"`` does.
"""

import math
import re
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, TypeVar

from marine_watch.errors import StoreRejected, StoreUnavailable
from marine_watch.store import SeriesPoint
from marine_watch.store.sqlite_file import SqliteFile
from sensors.reading import Reading

T = TypeVar("T")

# The InfluxDB store cannot hold these in a tag (see influx.UNWRITABLE); refusing them here too
# keeps both stores to one contract.
UNWRITABLE: Final = re.compile(r"[\\\x00-\x1f\x7f-\x9f\ud800-\udfff]")

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS reading (
    station TEXT NOT NULL,
    kind    TEXT NOT NULL,
    ts_ns   INTEGER NOT NULL,
    value   REAL NOT NULL,
    qc      TEXT NOT NULL,
    PRIMARY KEY (station, kind, ts_ns)
) WITHOUT ROWID;
-- the primary key serves (station, kind, time range); this serves (station, any kind, time range)
CREATE INDEX IF NOT EXISTS reading_station_ts ON reading (station, ts_ns);
"""
UPSERT: Final = """
INSERT INTO reading (station, kind, ts_ns, value, qc) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (station, kind, ts_ns) DO UPDATE SET value = excluded.value, qc = excluded.qc
"""
SELECT_RAW: Final = """
SELECT station, kind, ts_ns, value, qc FROM reading
WHERE station = :station AND (:kind IS NULL OR kind = :kind) AND ts_ns >= :start AND ts_ns < :end
ORDER BY ts_ns, kind LIMIT :limit
"""
# Floor division so that buckets before 1970 start at a multiple of the width too.
SELECT_BUCKETS: Final = """
SELECT station, kind, ts_ns - ((ts_ns % :width) + :width) % :width AS bucket, avg(value), qc
FROM reading
WHERE station = :station AND (:kind IS NULL OR kind = :kind) AND ts_ns >= :start AND ts_ns < :end
GROUP BY bucket, kind, qc ORDER BY bucket, kind, qc LIMIT :limit
"""


def _row(reading: Reading) -> tuple[str, str, int, float, str]:
    tags = (reading.station, reading.kind, reading.qc)
    if not all(tags) or any(UNWRITABLE.search(tag) for tag in tags):
        msg = (
            f"station, kind or qc of {reading!r} is empty or holds a backslash or control character"
        )
        raise ValueError(msg)
    if not math.isfinite(reading.value):
        msg = f"value {reading.value!r} is not finite"
        raise ValueError(msg)
    return (reading.station, reading.kind, int(reading.ts_ns), float(reading.value), reading.qc)


class SqliteStore:
    """Store readings in one SQLite file (WAL mode), all calls on a single-thread executor."""

    name = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        # autocommit: a batch is one explicit transaction; FULL syncs the WAL at each commit, so a
        # batch is durable before it is acknowledged
        self._sql = SqliteFile(
            self.path,
            "sqlite",
            setup=lambda db: db.executescript(SCHEMA),
            autocommit=True,
            busy_timeout_ms=5000,
        )
        # reads (queries, counts) on a connection and thread of their own: never on the write path
        self._reader = SqliteFile(
            self.path,
            "sqlite-read",
            setup=lambda db: db.execute("PRAGMA query_only = ON"),
            durable=False,
            autocommit=True,
            busy_timeout_ms=5000,
        )

    async def __aenter__(self) -> "SqliteStore":
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _run(self, fn: Callable[[sqlite3.Connection], T], *, read: bool = False) -> T:
        if self._sql.closed:
            msg = f"sqlite {self.path}: store is closed"
            raise StoreUnavailable(msg)
        try:
            if read:
                await self._sql.open()  # the writer makes the file and the schema first
                return await self._reader.run(fn)
            return await self._sql.run(fn)
        except sqlite3.OperationalError as exc:  # locked, disk I/O, cannot open: may pass
            msg = f"sqlite {self.path}: {exc}"
            raise StoreUnavailable(msg) from exc
        except sqlite3.DatabaseError as exc:  # constraint, bad value: will not pass on retry
            msg = f"sqlite {self.path}: {exc}"
            raise StoreRejected(msg) from exc

    async def open(self) -> None:
        """Open the file and create the schema (otherwise done by the first call)."""
        await self._run(lambda db: None)

    async def write(self, readings: Sequence[Reading]) -> None:
        """Store a batch of readings in one transaction; StoreRejected if a reading cannot be stored."""
        if not readings:
            return
        try:
            rows = [_row(r) for r in readings]
        except ValueError as exc:
            msg = f"batch cannot be stored: {exc}"
            raise StoreRejected(msg) from exc

        def insert(db: sqlite3.Connection) -> None:
            with db:  # one transaction per batch
                db.execute("BEGIN")
                db.executemany(UPSERT, rows)

        await self._run(insert)

    async def query(
        self,
        station: str,
        kind: str | None,
        start_ns: int,
        end_ns: int,
        *,
        every_s: int | None = None,
        limit: int = 100_000,
    ) -> list[SeriesPoint]:
        """Points of a station (one kind or all) in [start_ns, end_ns), averaged per ``every_s`` if given."""
        params: dict[str, object] = {
            "station": station,
            "kind": kind,
            "start": int(start_ns),
            "end": int(end_ns),
            "limit": int(limit),
        }
        if every_s is None:
            sql = SELECT_RAW
        elif every_s > 0:
            sql = SELECT_BUCKETS
            params["width"] = int(every_s) * 1_000_000_000
        else:
            msg = f"every_s must be positive, not {every_s}"
            raise StoreRejected(msg)

        def select(db: sqlite3.Connection) -> list[SeriesPoint]:
            return [SeriesPoint(*row) for row in db.execute(sql, params)]

        return await self._run(select, read=True)

    async def count(self, station: str | None = None) -> int:
        """How many readings are stored (of one station, if given)."""

        def select(db: sqlite3.Connection) -> int:
            if station is None:
                row = db.execute("SELECT count(*) FROM reading").fetchone()
            else:
                row = db.execute(
                    "SELECT count(*) FROM reading WHERE station = ?", (station,)
                ).fetchone()
            return int(row[0])

        return await self._run(select, read=True)

    async def ping(self) -> bool:
        """Whether the database answers."""
        try:
            await self._run(lambda db: db.execute("SELECT 1").fetchone())
        except (StoreUnavailable, StoreRejected):
            return False
        return True

    async def close(self) -> None:
        """Close the reader and the writer connections."""
        await self._reader.close()
        await self._sql.close()
