"""The store writer: batches deliveries, writes them durably, then acknowledges them to the broker.

Durable means in the store, or in the disk spool when the store is down (the spool then drains in
order before new batches go straight to the store again). A delivery is acknowledged only after
that, so a crash at any point leaves its message unacknowledged at the broker, which redelivers it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from marine_watch.errors import SpoolError, StoreRejected, StoreUnavailable
from marine_watch.ingest.dead_letters import DeadLetter, DeadLetters
from marine_watch.metrics import Metrics
from marine_watch.store import Store
from marine_watch.store.spool import Spool, encode_batch
from sensors.reading import Batch, Reading

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Delivery:
    """The readings of one MQTT message and how to acknowledge it."""

    readings: Sequence[Reading]
    ack: Callable[[], None] = field(default=lambda: None)
    topic: str = ""


class Writer:
    """Drains the ingest queue into the store in batches of size or time."""

    def __init__(
        self,
        queue: asyncio.Queue[Delivery],
        store: Store,
        spool: Spool,
        dead_letters: DeadLetters,
        metrics: Metrics,
        *,
        max_readings: int,
        max_wait_s: float,
        retry_s: float = 1.0,
    ) -> None:
        self._queue = queue
        self._store = store
        self._spool = spool
        self._dead = dead_letters
        self._metrics = metrics
        self._max_readings = max_readings
        self._max_wait_s = max_wait_s
        self._retry_s = retry_s
        self.store_up = True

    async def run(self) -> None:
        """Forever: take a batch, make it durable, acknowledge it."""
        while True:
            batch = await self._next_batch()
            await self._make_durable(batch)
            for delivery in batch:
                delivery.ack()
                self._queue.task_done()
            self._metrics.queue_depth.set(self._queue.qsize())

    async def _next_batch(self) -> list[Delivery]:
        batch = [await self._queue.get()]
        n = len(batch[0].readings)
        deadline = time.monotonic() + self._max_wait_s
        while n < self._max_readings:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            batch.append(item)
            n += len(item.readings)
        return batch

    async def _make_durable(self, batch: list[Delivery]) -> None:
        readings = Batch(block for d in batch for block in Batch.of(d.readings).blocks)
        if not readings:
            return
        while True:
            try:
                await self._write_or_spool(readings)
                return
            except SpoolError as exc:
                # Neither store nor disk: keep the batch unacknowledged and retry; ingest slows down
                # because the bounded queue fills, and the broker keeps the rest.
                log.error("spool_write_failed", error=str(exc), n=len(readings))
                await asyncio.sleep(self._retry_s)

    async def _write_or_spool(self, readings: Batch) -> None:
        if self._spool.pending == 0:
            started = time.perf_counter()
            try:
                await self._store.write(readings)
            except StoreUnavailable as exc:
                if self.store_up:
                    log.warning("store_unavailable", error=str(exc), action="spooling")
                self.store_up = False
            except StoreRejected as exc:
                await self._reject(readings, str(exc))
                return
            else:
                self._metrics.store_seconds.observe(time.perf_counter() - started)
                self._metrics.stored.inc(len(readings))
                self.store_up = True
                return
        await self._spool.append(readings)
        self._metrics.spooled.inc(len(readings))
        self._metrics.spool_pending.set(self._spool.pending)

    async def _reject(self, readings: Sequence[Reading], reason: str) -> None:
        log.error("batch_rejected", n=len(readings), error=reason)
        body = encode_batch(readings)
        letter = DeadLetter("(store)", time.time(), "store_rejected", reason, body, len(body))
        await self._dead.add([letter])
        self._metrics.dead_letters.labels("store_rejected").inc()

    async def drain_spool(self, *, idle_s: float = 1.0) -> None:
        """Forever: move spooled batches to the store, oldest first, once it answers again."""
        while True:
            oldest = await self._spool.oldest() if self._spool.pending else None
            if oldest is None:
                await asyncio.sleep(idle_s)
                continue
            batch_id, readings = oldest
            try:
                await self._store.write(readings)
            except StoreUnavailable:
                await asyncio.sleep(idle_s)
                continue
            except StoreRejected as exc:
                await self._reject(readings, str(exc))
            else:
                self._metrics.replayed.inc(len(readings))
            await self._spool.remove(batch_id)
            self._metrics.spool_pending.set(self._spool.pending)
            if self._spool.pending == 0:
                self.store_up = True
                log.info("spool_drained")

    async def drained(self) -> None:
        """Wait until every queued delivery has been made durable."""
        await self._queue.join()
