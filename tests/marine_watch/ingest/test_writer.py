"""The writer acknowledges only what is durable, spools while the store is down, and pushes back."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from marine_watch.errors import StoreUnavailable
from marine_watch.ingest.dead_letters import DeadLetters
from marine_watch.ingest.writer import Delivery, Writer
from marine_watch.metrics import Metrics
from marine_watch.store import SeriesPoint
from marine_watch.store.spool import Spool
from sensors.reading import Reading
from tests.services import scaled

T0 = 1_795_000_000 * 1_000_000_000


class SlowStore:
    """A store double: each write takes ``delay_s``; ``down`` makes it unavailable."""

    name = "slow"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.down = False
        self.points: dict[tuple[str, str, int], Reading] = {}
        self.writes = 0

    async def write(self, readings: Sequence[Reading]) -> None:
        await asyncio.sleep(self.delay_s)
        if self.down:
            msg = "store is down"
            raise StoreUnavailable(msg)
        self.writes += 1
        self.points.update((r.key, r) for r in readings)

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
        del station, kind, start_ns, end_ns, every_s, limit
        return []

    async def count(self, station: str | None = None) -> int:
        del station
        return len(self.points)

    async def ping(self) -> bool:
        return not self.down

    async def close(self) -> None:
        return None


Parts = tuple[Spool, DeadLetters]


def reading(i: int) -> Reading:
    return Reading("zhapu", "tide_level", T0 + i * 1_000_000_000, 1.0 + 0.001 * i)


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    spool = Spool(tmp_path / "spool.sqlite3")
    await spool.open()
    dead = DeadLetters(tmp_path / "dead.sqlite3")
    await dead.open()
    yield spool, dead
    await spool.close()
    await dead.close()


def make_writer(
    queue: asyncio.Queue[Delivery], store: SlowStore, parts: Parts, **kw: Any
) -> Writer:
    spool, dead = parts
    options = {"max_readings": 10, "max_wait_s": 0.01, "retry_s": 0.01} | kw
    return Writer(queue, store, spool, dead, Metrics(), **options)


async def run_until(condition: Callable[[], object], within_s: float = 5.0) -> None:
    async with asyncio.timeout(scaled(within_s)):
        while True:
            if condition():
                return
            await asyncio.sleep(0.005)


async def test_a_delivery_is_acked_only_after_the_store_has_it(parts: Parts) -> None:
    """The ack runs after the write returned, never before."""
    store = SlowStore(delay_s=0.05)
    queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=4)
    order: list[str] = []
    writer = make_writer(queue, store, parts)
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(writer.run())
        await queue.put(Delivery([reading(0)], lambda: order.append(f"ack after {store.writes}")))
        await run_until(lambda: order)
        task.cancel()
    assert order == ["ack after 1"]


async def test_a_bounded_queue_and_a_slow_store_slow_ingest_down(parts: Parts) -> None:
    """With a queue of 2 and a 50 ms store, a fast producer waits: the queue never holds more than 2."""
    store = SlowStore(delay_s=0.05)
    queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=2)
    writer = make_writer(queue, store, parts, max_readings=1)
    acked: list[int] = []
    depth: list[int] = []
    loop = asyncio.get_running_loop()
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(writer.run())
        started = loop.time()
        for i in range(20):
            await queue.put(Delivery([reading(i)], partial(acked.append, i)))
            depth.append(queue.qsize())
        producer_s = loop.time() - started
        await run_until(lambda: len(acked) == 20)
        task.cancel()
    assert max(depth) <= 2
    assert producer_s >= 0.05 * (20 - 3)  # paced by the store, not by the producer
    assert acked == list(range(20))
    assert len(store.points) == 20


async def test_a_store_outage_spools_acks_and_replays_once(parts: Parts) -> None:
    """Store down: batches are spooled and acked; once it is back, replay moves them and empties the spool."""
    spool, _ = parts
    store = SlowStore()
    store.down = True
    queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=8)
    writer = make_writer(queue, store, parts)
    acked: list[int] = []
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(writer.run()), tg.create_task(writer.drain_spool(idle_s=0.01))]
        for i in range(30):
            await queue.put(Delivery([reading(i)], partial(acked.append, i)))
        await run_until(lambda: len(acked) == 30)
        assert spool.pending > 0
        assert not store.points
        store.down = False
        await run_until(lambda: spool.pending == 0 and len(store.points) == 30)
        for task in tasks:
            task.cancel()
    assert sorted(store.points) == sorted(reading(i).key for i in range(30))


class FullDiskSpool(Spool):
    """A real spool whose disk is full: every append fails as SQLite does on ENOSPC."""

    def _append(self, db: sqlite3.Connection, body: bytes) -> None:
        msg = "database or disk is full"
        raise sqlite3.OperationalError(msg)


async def test_when_neither_store_nor_spool_takes_a_batch_nothing_is_acked(
    tmp_path: Path, parts: Parts
) -> None:
    """Store down and disk full: an error is logged, the batch retried and never acked until it is stored."""
    _, dead = parts
    spool = FullDiskSpool(tmp_path / "full.sqlite3")
    await spool.open()
    store = SlowStore()
    store.down = True
    queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=8)
    writer = Writer(
        queue, store, spool, dead, Metrics(), max_readings=10, max_wait_s=0.01, retry_s=0.01
    )
    acked: list[int] = []
    with capture_logs() as logs:
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(writer.run())
            await queue.put(Delivery([reading(0)], lambda: acked.append(0)))
            await run_until(lambda: sum(e["event"] == "spool_write_failed" for e in logs) >= 3)
            assert acked == []
            store.down = False
            await run_until(lambda: acked == [0])
            task.cancel()
    await spool.close()
    failed = next(e for e in logs if e["event"] == "spool_write_failed")
    assert failed["log_level"] == "error"
    assert "disk is full" in failed["error"]
    assert list(store.points) == [reading(0).key]
