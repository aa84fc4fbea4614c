"""Where readings live: one protocol, two implementations (InfluxDB v1 HTTP API, SQLite).

Writes are idempotent: a point is keyed by (station, kind, ts_ns), so writing the same reading
twice leaves one point (InfluxDB overwrites the field; SQLite upserts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from sensors.reading import Reading


class SeriesPoint(msgspec.Struct, frozen=True, gc=False):
    """One point of a query answer; with ``every`` it is the mean of a time bucket.

    Not tracked by the garbage collector (``gc=False``; the fields can form no cycle) and built in
    C: a history answer of 10,000-100,000 points used to promote that many tracked objects and set
    off a full collection every few reads, pausing ingest with everything else (BENCHMARKS.md,
    ``bench_hostile``).
    """

    station: str
    kind: str
    ts_ns: int
    value: float
    qc: str


class Store(Protocol):
    """The store interface every implementation passes the same contract tests for."""

    name: str

    async def write(self, readings: Sequence[Reading]) -> None:
        """Write a batch durably; raise StoreUnavailable (retry/spool) or StoreRejected (bad batch)."""
        ...

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
        """Readings of a station in [start, end), oldest first; ``every_s`` downsamples to bucket means."""
        ...

    async def count(self, station: str | None = None) -> int:
        """Number of stored points (of a station, or all): used by tests and health checks."""
        ...

    async def ping(self) -> bool:
        """True when the store answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
