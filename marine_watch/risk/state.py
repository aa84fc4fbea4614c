"""Live state of the coast: a numpy ring buffer per (station, kind) of the readings that passed QC."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from risk_models.types import FloatArray
from sensors.reading import Block, QcFlag, Reading, group

NS_PER_S = 1e9
ARRAY_MIN = 8  # readings of one series in a message from which arrays beat the loop


@dataclass
class Ring:
    """Fixed-capacity time series; oldest values are overwritten."""

    capacity: int
    times_s: FloatArray = field(init=False)
    values: FloatArray = field(init=False)
    n: int = 0
    head: int = 0  # next write position
    last_ts_s: float = float("nan")
    last_value: float = float("nan")
    last_qc: str = QcFlag.OK.value

    def __post_init__(self) -> None:
        self.times_s = np.full(self.capacity, np.nan)
        self.values = np.full(self.capacity, np.nan)

    def append(self, ts_s: float, value: float) -> None:
        """Append one value, overwriting the oldest when full."""
        self.times_s[self.head] = ts_s
        self.values[self.head] = value
        self.head = (self.head + 1) % self.capacity
        self.n = min(self.n + 1, self.capacity)

    def extend(self, times_s: FloatArray, values: FloatArray) -> None:
        """``append`` each (time, value) in order."""
        k = times_s.size
        if (
            k >= self.capacity
        ):  # only the last ``capacity`` survive, ending just before the new head
            times_s, values = times_s[-self.capacity :], values[-self.capacity :]
        start = (self.head + k - times_s.size) % self.capacity
        slots = (start + np.arange(times_s.size)) % self.capacity
        self.times_s[slots] = times_s
        self.values[slots] = values
        self.head = (self.head + k) % self.capacity
        self.n = min(self.n + k, self.capacity)

    def window(self, since_s: float, until_s: float = np.inf) -> tuple[FloatArray, FloatArray]:
        """Readings with since <= t <= until, sorted by time."""
        t, v = self.times_s[: self.n], self.values[: self.n]
        keep = (t >= since_s) & (t <= until_s)
        order = np.argsort(t[keep], kind="stable")
        return t[keep][order], v[keep][order]


class CoastState:
    """Every station's recent readings; QC-flagged readings are kept as 'last' but not used for risk."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._rings: dict[tuple[str, str], Ring] = {}
        self.last_seen_s: dict[str, float] = {}

    def add(self, readings: Iterable[Reading]) -> None:
        """Add readings (grouped into blocks by station and kind)."""
        self.add_blocks(group(readings))

    def add_blocks(self, blocks: Iterable[Block]) -> None:
        """Add blocks of readings to the rings of their station and kind."""
        for block in blocks:
            key = (block.station, block.kind)
            ring = self._rings.get(key)
            if ring is None:
                ring = self._rings[key] = Ring(self._capacity)
            if len(block) < ARRAY_MIN:
                for t, v, q in zip(block.ts_ns, block.values, block.qc, strict=True):
                    self._add_one(ring, block.station, t, v, q)
            else:
                self._add_series(ring, block)

    def _add_one(self, ring: Ring, station: str, ts_ns: int, value: float, qc: str) -> None:
        ts_s = ts_ns / NS_PER_S
        if np.isnan(ring.last_ts_s) or ts_s >= ring.last_ts_s:
            ring.last_ts_s, ring.last_value, ring.last_qc = ts_s, value, qc
        if qc == QcFlag.OK:
            ring.append(ts_s, value)
        seen = self.last_seen_s.get(station, -np.inf)
        self.last_seen_s[station] = max(seen, ts_s)

    def _add_series(self, ring: Ring, block: Block) -> None:
        """What ``_add_one`` does for each reading of one series, on arrays."""
        ts_s = np.array(block.ts_ns, dtype=np.float64) / NS_PER_S
        values = np.array(block.values, dtype=np.float64)
        newest = ts_s.size - 1 - int(np.argmax(ts_s[::-1]))  # the last of the latest times
        if np.isnan(ring.last_ts_s) or ts_s[newest] >= ring.last_ts_s:
            ring.last_ts_s = float(ts_s[newest])
            ring.last_value, ring.last_qc = block.values[newest], block.qc[newest]
        if block.qc.count(QcFlag.OK.value) == len(block):
            ring.extend(ts_s, values)
        else:
            ok = np.array([q == QcFlag.OK for q in block.qc], dtype=bool)
            ring.extend(ts_s[ok], values[ok])
        seen = self.last_seen_s.get(block.station, -np.inf)
        self.last_seen_s[block.station] = max(seen, float(ts_s[newest]))

    def ring(self, station: str, kind: str) -> Ring | None:
        """The ring of this station and kind, or None."""
        return self._rings.get((station, kind))

    def window(
        self, station: str, kind: str, since_s: float, until_s: float = np.inf
    ) -> tuple[FloatArray, FloatArray]:
        """Times and values of this station and kind in [since_s, until_s]; empty if none."""
        ring = self._rings.get((station, kind))
        if ring is None:
            empty = np.empty(0)
            return empty, empty
        return ring.window(since_s, until_s)

    def latest(
        self, station: str, kind: str, *, now_s: float, max_age_s: float
    ) -> tuple[float, float] | None:
        """Newest QC-passed (time, value) no older than max_age_s, else None."""
        t, v = self.window(station, kind, now_s - max_age_s, now_s + 1.0)
        return None if t.size == 0 else (float(t[-1]), float(v[-1]))

    def last_any(self, station: str, kind: str) -> tuple[float, float, str] | None:
        """Newest reading whatever its QC flag (for feeds and the dashboard)."""
        ring = self._rings.get((station, kind))
        if ring is None or np.isnan(ring.last_ts_s):
            return None
        return ring.last_ts_s, ring.last_value, ring.last_qc

    def kinds(self, station: str) -> list[str]:
        """The kinds this station has readings of, sorted."""
        return sorted(k for s, k in self._rings if s == station)


def snapshot(state: CoastState) -> CoastState:
    """A copy the numerics thread can read while the loop keeps adding readings."""
    copy = CoastState(state._capacity)
    for key, ring in state._rings.items():
        twin = Ring(ring.capacity)
        twin.times_s[:] = ring.times_s
        twin.values[:] = ring.values
        twin.n, twin.head = ring.n, ring.head
        twin.last_ts_s, twin.last_value, twin.last_qc = (
            ring.last_ts_s,
            ring.last_value,
            ring.last_qc,
        )
        copy._rings[key] = twin
    copy.last_seen_s = dict(state.last_seen_s)
    return copy
