"""The SQLite store's own behaviour, beyond the contract it shares with InfluxDB
(tests/marine_watch/store/test_contract.py): its file, its transactions, its read connection."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from marine_watch.errors import StoreRejected, StoreUnavailable
from marine_watch.store.sqlite import SqliteStore
from sensors.reading import Reading

S = 1_000_000_000
T0 = 1_699_999_200 * S


def reading(seconds: float, value: float, station: str = "PH01", qc: str = "ok") -> Reading:
    return Reading(station, "tide_level", T0 + int(seconds * S), value, qc)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "readings.sqlite3") as opened:
        yield opened


def rows(path: Path) -> list[tuple[object, ...]]:
    """The table as another process would read it."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT station, kind, ts_ns, value, qc FROM reading").fetchall()


async def test_opening_makes_a_wal_file_with_the_reading_table(store: SqliteStore) -> None:
    assert store.path.exists()
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert {"reading", "reading_station_ts"} <= tables


async def test_a_written_batch_is_on_disk_when_write_returns(store: SqliteStore) -> None:
    await store.write([reading(0, 1.5), reading(60, 1.75)])
    assert rows(store.path) == [
        ("PH01", "tide_level", T0, 1.5, "ok"),
        ("PH01", "tide_level", T0 + 60 * S, 1.75, "ok"),
    ]


async def test_a_batch_with_one_bad_reading_writes_none_of_it(store: SqliteStore) -> None:
    with pytest.raises(StoreRejected, match="batch cannot be stored"):
        await store.write([reading(0, 1.0), reading(1, float("nan")), reading(2, 2.0)])
    with pytest.raises(StoreRejected, match="empty or holds a backslash"):
        await store.write([reading(0, 1.0), reading(1, 1.0, station="PH\\01")])
    assert await store.count() == 0
    await store.write([])  # nothing to do, and no error
    assert rows(store.path) == []


async def test_a_rewrite_updates_value_and_flag_in_place(store: SqliteStore) -> None:
    await store.write([reading(0, 1.0, qc="suspect")])
    await store.write([reading(0, 1.25, qc="ok")])
    assert rows(store.path) == [("PH01", "tide_level", T0, 1.25, "ok")]


async def test_buckets_before_1970_start_at_a_multiple_of_the_width(tmp_path: Path) -> None:
    """Floor division: -1.5 s falls in the bucket [-2 s, -1 s), not [-1 s, 0 s)."""
    async with SqliteStore(tmp_path / "old.sqlite3") as store:
        old = [Reading("PH01", "tide_level", int(t * S), v) for t, v in [(-1.5, 1.0), (-0.5, 3.0)]]
        await store.write([*old, Reading("PH01", "tide_level", int(0.5 * S), 5.0)])
        points = await store.query("PH01", None, -10 * S, 10 * S, every_s=1)
    assert [(p.ts_ns, p.value) for p in points] == [(-2 * S, 1.0), (-1 * S, 3.0), (0, 5.0)]


@pytest.mark.parametrize("every_s", [0, -60])
async def test_a_bucket_width_must_be_positive(store: SqliteStore, every_s: int) -> None:
    with pytest.raises(StoreRejected, match="every_s must be positive"):
        await store.query("PH01", None, T0, T0 + S, every_s=every_s)


async def test_reads_run_on_a_read_only_connection_of_their_own(store: SqliteStore) -> None:
    await store.write([reading(0, 1.0)])
    await store.count()
    writer, reader = store._sql, store._reader  # the two connections' files
    assert not reader.closed
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await reader.run(lambda db: db.execute("DELETE FROM reading"))
    assert await writer.run(lambda db: db.execute("SELECT count(*) FROM reading").fetchone()) == (
        1,
    )


async def test_a_query_a_write_and_a_count_in_flight_together_all_complete(
    store: SqliteStore,
) -> None:
    await store.write([reading(i, float(i)) for i in range(1000)])
    results = await asyncio.gather(
        store.query("PH01", None, T0, T0 + 1000 * S),
        store.write([reading(2000, 9.0)]),
        store.count("PH01"),
    )
    assert len(results[0]) == 1000
    assert await store.count("PH01") == 1001


async def test_ping_answers_false_once_closed_and_calls_raise_unavailable(
    store: SqliteStore,
) -> None:
    assert await store.ping()
    await store.close()
    assert not await store.ping()
    with pytest.raises(StoreUnavailable, match="store is closed"):
        await store.write([reading(0, 1.0)])
    with pytest.raises(StoreUnavailable, match="store is closed"):
        await store.count()


async def test_a_file_that_is_not_a_database_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "readings.sqlite3"
    path.write_bytes(b"this is not an SQLite file, just text " * 100)
    store = SqliteStore(path)
    try:
        with pytest.raises(StoreRejected, match="file is not a database"):  # no retry helps
            await store.open()
    finally:
        await store.close()
