"""Where readings live: one protocol, two implementations (InfluxDB v1 HTTP API, SQLite).

Writes are idempotent: a point is keyed by (station, kind, ts_ns), so writing the same reading
twice leaves one point (InfluxDB overwrites the field; SQLite upserts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sensors.reading import Reading


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point of a query answer; with ``every`` it is the mean of a time bucket."""

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
