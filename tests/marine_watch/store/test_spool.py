"""The disk spool: batches kept in order on disk, across a restart, until the store has them
(tests/marine_watch/ingest/test_writer.py spools through a store outage)."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from marine_watch.errors import SpoolError
from marine_watch.store.spool import Spool, decode_batch, encode_batch
from sensors.reading import Reading

T0 = 1_699_999_200_000_000_000


def batch(n: int, station: str = "PH01") -> list[Reading]:
    return [Reading(station, "tide_level", T0 + i, 1.0 + i / 4, "ok") for i in range(n)]


def test_a_batch_encodes_to_compact_rows_and_back_unchanged() -> None:
    readings = [*batch(2), Reading("站/1", "wind_speed", -5, 1e-300, "suspect")]
    blob = encode_batch(readings)
    assert blob.startswith(b'[["PH01", "tide_level", 1699999200000000000, 1.0, "ok"]')
    assert decode_batch(blob) == readings
    assert decode_batch(encode_batch([])) == []


@pytest.fixture
async def spool(tmp_path: Path) -> AsyncIterator[Spool]:
    opened = Spool(tmp_path / "spool.sqlite3")
    await opened.open()
    yield opened
    await opened.close()


async def test_batches_come_out_oldest_first_until_removed(spool: Spool) -> None:
    assert await spool.oldest() is None
    await spool.append(batch(1, "A"))
    await spool.append(batch(2, "B"))
    assert spool.pending == 2
    first = await spool.oldest()
    assert first is not None
    assert first[1] == batch(1, "A")
    assert await spool.oldest() == first  # reading does not take it
    await spool.remove(first[0])
    second = await spool.oldest()
    assert second is not None
    assert second[1] == batch(2, "B")
    await spool.remove(second[0])
    assert (await spool.oldest(), spool.pending) == (None, 0)
    await spool.remove(second[0])  # removing twice is harmless (a replay repeated)
    assert spool.pending == 0


async def test_a_reopened_spool_counts_and_keeps_what_was_appended(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path)
    await spool.open()
    for n in (3, 1, 2):
        await spool.append(batch(n))
    await spool.close()
    again = Spool(path)
    await again.open()
    try:
        assert again.pending == 3
        sizes = []
        while (oldest := await again.oldest()) is not None:
            sizes.append(len(oldest[1]))
            await again.remove(oldest[0])
        assert sizes == [3, 1, 2]
    finally:
        await again.close()


async def test_a_spool_that_cannot_open_is_a_spool_error(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    path.write_bytes(b"not a database at all " * 100)
    spool = Spool(path)
    try:
        with pytest.raises(SpoolError, match="cannot open spool"):
            await spool.open()
    finally:
        await spool.close()


async def test_a_full_disk_is_a_spool_error_and_the_batch_not_counted(spool: Spool) -> None:
    """SQLite's own "database or disk is full", with the file capped at the pages it has."""
    await spool.append(batch(1))

    def cap(db: sqlite3.Connection) -> None:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")

    await spool._sql.run(cap)
    with pytest.raises(SpoolError, match="not writable: database or disk is full"):
        await spool.append(batch(5000))
    assert spool.pending == 1
    oldest = await spool.oldest()
    assert oldest is not None
    assert oldest[1] == batch(1)  # what was spooled before is intact
