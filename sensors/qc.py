"""Quality control of readings against their recent neighbours: spike, flat line, duplicate.

Physical range and time in the future are decided in :mod:`sensors.payload` from the reading alone;
the checks here need the recent history of the same (station, kind), which :class:`QcHistory` keeps
in memory (bounded: a few readings per series, and the catalogue bounds the series). A flagged
reading is kept with its flag, never dropped: the flag tells the risk rules not to trust it.

The flag is decided once, at ingest, and remembered per point key: a redelivered message (same
station, kind, time and value) gets the flag it got the first time, so it rewrites the identical
point. The memory lasts as long as the process does (see docs/DELIVERY.md, "Limits").

Sources for the tests: IOOS QARTOD manuals (spike test: distance from neighbouring values; flat line
test: N repeated values), and the IOC Manual on Sea Level Measurement vol. IV (2006), section 5
(spikes and stuck values in tide-gauge data). The per-kind numbers below are SAMPLE settings for
minute-scale sampling, not values prescribed by either manual.
"""

import statistics
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from sensors.reading import Kind, QcFlag, Reading

# Largest credible jump from the median of the neighbours within SPIKE_WINDOW_NS (SAMPLE values,
# in the kind's unit). Directions wrap at 360 degrees and are not spike-tested.
SPIKE_LIMIT: dict[Kind, float] = {
    Kind.TIDE_LEVEL: 1.0,  # m; a macro-tidal estuary rises < 1 m in 15 min, surge included
    Kind.WAVE_HEIGHT: 3.0,  # m
    Kind.WAVE_PERIOD: 8.0,  # s
    Kind.WIND_SPEED: 15.0,  # m/s
    Kind.WIND_GUST: 20.0,  # m/s
    Kind.AIR_PRESSURE: 5.0,  # hPa; a typhoon eye passage is ~ 1 hPa/min
    Kind.WATER_TEMP: 3.0,  # degC
    Kind.CHLOROPHYLL_A: 50.0,  # ug/L
    Kind.DISSOLVED_OXYGEN: 3.0,  # mg/L
    Kind.PH: 1.0,
    Kind.SALINITY: 5.0,  # PSU
}
SPIKE_WINDOW_NS = 15 * 60 * 1_000_000_000  # neighbours farther apart in time than this do not count
SPIKE_MIN_NEIGHBOURS = 3  # fewer than this: no spike verdict (the median would not be robust)
# Identical consecutive values that make a stuck sensor (SAMPLE). Slow water-quality kinds repeat
# honestly for longer at their usual resolution.
FLATLINE_COUNT: dict[Kind, int] = {
    Kind.WATER_TEMP: 30,
    Kind.DISSOLVED_OXYGEN: 30,
    Kind.PH: 30,
    Kind.SALINITY: 30,
    Kind.CHLOROPHYLL_A: 30,
}
FLATLINE_DEFAULT = 10
RECENT = 5  # latest readings per series whose median a new value is compared with (spike)
REMEMBERED = 512  # point keys per series whose value and flag are remembered (duplicates, replays)


@dataclass(slots=True)
class _Series:
    """Recent readings of one (station, kind): arrival order, and the flag given to each time."""

    recent: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=RECENT))
    seen: OrderedDict[int, tuple[float, str]] = field(default_factory=OrderedDict)
    run_value: float | None = None
    run_length: int = 0


class QcHistory:
    """Flag each reading against the recent readings of its series; remember what was decided."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], _Series] = {}

    def seed(self, readings: Iterable[Reading]) -> None:
        """Remember stored readings with the flags they were stored with (warm start after a restart).

        A redelivered message whose reading was stored before a crash then gets exactly its stored
        flag, so it rewrites the identical point (the flag is part of the point in InfluxDB).
        """
        for reading in sorted(readings, key=lambda r: r.ts_ns):
            key = (reading.station, reading.kind)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series()
            _remember(series, reading.ts_ns, reading.value, reading.qc)

    def check(self, reading: Reading) -> Reading:
        """The reading with its QC flag decided; a flag set by the payload check is kept."""
        key = (reading.station, reading.kind)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        earlier = series.seen.get(reading.ts_ns)
        if earlier is not None:
            if earlier[0] == reading.value:
                return reading if earlier[1] == reading.qc else replace(reading, qc=earlier[1])
            flag = QcFlag.DUPLICATE.value
        elif reading.qc != QcFlag.OK:
            flag = reading.qc
        else:
            flag = _assess(series, reading.kind, reading.ts_ns, reading.value)
        _remember(series, reading.ts_ns, reading.value, flag)
        return reading if flag == reading.qc else replace(reading, qc=flag)


def _assess(series: _Series, kind: str, ts_ns: int, value: float) -> str:
    limit = SPIKE_LIMIT.get(kind)  # type: ignore[call-overload]  # Kind is a StrEnum: str keys match
    if limit is not None and len(series.recent) >= SPIKE_MIN_NEIGHBOURS:
        lo, hi = ts_ns - SPIKE_WINDOW_NS, ts_ns + SPIKE_WINDOW_NS
        near = [v for t, v in series.recent if lo <= t <= hi]
        if len(near) >= SPIKE_MIN_NEIGHBOURS and abs(value - statistics.median(near)) > limit:
            return QcFlag.SPIKE.value
    if value == series.run_value and series.run_length + 1 >= FLATLINE_COUNT.get(
        kind,  # type: ignore[call-overload]  # Kind is a StrEnum: str keys match
        FLATLINE_DEFAULT,
    ):
        return QcFlag.FLATLINE.value
    return QcFlag.OK.value


def _remember(series: _Series, ts_ns: int, value: float, flag: str) -> None:
    if ts_ns not in series.seen:
        series.seen[ts_ns] = (value, flag)
        if len(series.seen) > REMEMBERED:
            series.seen.popitem(last=False)
    if flag in (QcFlag.RANGE, QcFlag.FUTURE, QcFlag.DUPLICATE):
        return  # not a value of this series' recent past
    series.recent.append((ts_ns, value))
    if value == series.run_value:
        series.run_length += 1
    else:
        series.run_value, series.run_length = value, 1
