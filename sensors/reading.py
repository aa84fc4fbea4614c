"""A reading: one value of one kind from one station at one time, as the service keeps it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import overload


class Kind(StrEnum):
    """What a station measures (MQTT contract: ``marine/v1/{station}/{kind}``)."""

    TIDE_LEVEL = "tide_level"
    WAVE_HEIGHT = "wave_height"
    WAVE_PERIOD = "wave_period"
    WAVE_DIRECTION = "wave_direction"
    WIND_SPEED = "wind_speed"
    WIND_DIRECTION = "wind_direction"
    WIND_GUST = "wind_gust"
    AIR_PRESSURE = "air_pressure"
    WATER_TEMP = "water_temp"
    CHLOROPHYLL_A = "chlorophyll_a"
    DISSOLVED_OXYGEN = "dissolved_oxygen"
    PH = "ph"
    SALINITY = "salinity"


#: Canonical unit per kind; payloads must state this unit (or omit it).
UNITS: dict[Kind, str] = {
    Kind.TIDE_LEVEL: "m",
    Kind.WAVE_HEIGHT: "m",
    Kind.WAVE_PERIOD: "s",
    Kind.WAVE_DIRECTION: "deg",
    Kind.WIND_SPEED: "m/s",
    Kind.WIND_DIRECTION: "deg",
    Kind.WIND_GUST: "m/s",
    Kind.AIR_PRESSURE: "hPa",
    Kind.WATER_TEMP: "degC",
    Kind.CHLOROPHYLL_A: "ug/L",
    Kind.DISSOLVED_OXYGEN: "mg/L",
    Kind.PH: "pH",
    Kind.SALINITY: "PSU",
}


class QcFlag(StrEnum):
    """Quality-control flag stored with every reading (field ``qc``; kept, never deleted).

    ``CONFLICT`` is the one verdict that is never stored: a second value for a point key already
    stored is dead-lettered at ingest (reason ``conflict``) and the first value stays.
    ``DUPLICATE`` is what such a value was flagged before conflicts were refused; stored history
    may still hold it.
    """

    OK = "ok"
    RANGE = "range"  # outside the physical range of its kind
    SPIKE = "spike"
    FLATLINE = "flatline"
    DUPLICATE = "duplicate"
    FUTURE = "future"
    CONFLICT = "conflict"  # never stored, see above


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading. ``ts_ns`` is UTC nanoseconds since the epoch; the point key is (station, kind, ts_ns)."""

    station: str
    kind: str
    ts_ns: int
    value: float
    qc: str = QcFlag.OK.value

    @property
    def key(self) -> tuple[str, str, int]:
        """Idempotency key of the point in every store."""
        return (self.station, self.kind, self.ts_ns)


@dataclass(frozen=True, slots=True)
class Block:
    """Readings of one series (station, kind) as columns, in arrival order: ingest's unit of work.

    ``ts_ns``, ``values`` and ``qc`` hold one entry per reading (``int``, ``float``, flag). Plain
    lists: the stores format them, the QC memory keys on them, and numpy takes them in one call
    where arrays pay. A message of 100 readings is one or a few blocks, not 100 objects.
    """

    station: str
    kind: str
    ts_ns: list[int]
    values: list[float]
    qc: list[str]

    def __len__(self) -> int:
        return len(self.ts_ns)

    def readings(self) -> list[Reading]:
        """The block as :class:`Reading` objects."""
        station, kind = self.station, self.kind
        return [
            Reading(station, kind, t, v, q)
            for t, v, q in zip(self.ts_ns, self.values, self.qc, strict=True)
        ]

    def with_qc(self, qc: list[str]) -> Block:
        """The same readings with other flags."""
        return Block(self.station, self.kind, self.ts_ns, self.values, qc)

    def split(self, flag: str) -> tuple[Block, list[tuple[int, float]]]:
        """The block without the readings flagged ``flag``, and the (time, value) of those."""
        if flag not in self.qc:
            return self, []
        keep = [i for i, q in enumerate(self.qc) if q != flag]
        out = [(self.ts_ns[i], self.values[i]) for i, q in enumerate(self.qc) if q == flag]
        return (
            Block(
                self.station,
                self.kind,
                [self.ts_ns[i] for i in keep],
                [self.values[i] for i in keep],
                [self.qc[i] for i in keep],
            ),
            out,
        )


def group(readings: Iterable[Reading]) -> list[Block]:
    """Readings as blocks, one per series, each in the order the readings came."""
    columns: dict[tuple[str, str], tuple[list[int], list[float], list[str]]] = {}
    for r in readings:
        got = columns.get((r.station, r.kind))
        if got is None:
            got = columns[(r.station, r.kind)] = ([], [], [])
        got[0].append(r.ts_ns)
        got[1].append(r.value)
        got[2].append(r.qc)
    return [Block(station, kind, *cols) for (station, kind), cols in columns.items()]


class Batch(Sequence[Reading]):
    """Blocks read as one sequence of readings, block after block (what the writer hands a store).

    The InfluxDB line encoder formats the blocks directly; anything else (the SQLite store, the
    spool) iterates or indexes it as readings, which builds the :class:`Reading` objects on demand.
    """

    __slots__ = ("_flat", "_size", "blocks")

    def __init__(self, blocks: Iterable[Block]) -> None:
        self.blocks = [b for b in blocks if len(b)]
        self._size = sum(len(b) for b in self.blocks)
        self._flat: list[Reading] | None = None

    @classmethod
    def of(cls, readings: Sequence[Reading]) -> Batch:
        """``readings`` as a batch (itself if it is one already)."""
        return readings if isinstance(readings, Batch) else cls(group(readings))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Reading]:
        for block in self.blocks:
            yield from block.readings()

    @overload
    def __getitem__(self, index: int) -> Reading: ...
    @overload
    def __getitem__(self, index: slice) -> list[Reading]: ...
    def __getitem__(self, index: int | slice) -> Reading | list[Reading]:
        if self._flat is None:
            self._flat = list(self)
        return self._flat[index]
