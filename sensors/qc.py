"""Quality control of readings against their recent neighbours: spike, flat line, conflict.

Physical range and time in the future are decided in :mod:`sensors.payload` from the reading alone;
the checks here need the recent history of the same (station, kind), which :class:`QcHistory` keeps
in memory (bounded: a few readings per series, and the catalogue bounds the series). A flagged
reading is kept with its flag, never dropped: the flag tells the risk rules not to trust it.

The flag is decided once, at ingest, and remembered per point key: a redelivered message (same
station, kind, time and value) gets the flag it got the first time, so it rewrites the identical
point. Another value for a remembered point key gets the verdict ``conflict``: ingest dead-letters
it and the first value stays, so stored history is never rewritten. The memory lasts as long as
the process does and holds the last REMEMBERED point keys per series (see docs/DELIVERY.md, "Limits").

Methods: IOOS QARTOD manuals (spike test: distance from neighbouring values; flat line test: N
repeated values), and the IOC Manual on Sea Level Measurement vol. IV (2006), section 5 (spikes and
stuck values in tide-gauge data). The numbers (limits, window, counts) come from config/qc.toml
(:class:`sensors.catalogue.QcRules`), where they are labelled as SAMPLE settings.
"""

import functools
import math
import statistics
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from sensors.catalogue import QcRules
from sensors.reading import Block, QcFlag, Reading, group

RECENT = 5  # latest readings per series whose median a new value is compared with (spike)
REMEMBERED = 512  # point keys per series whose value and flag are remembered (duplicates, replays)
ARRAY_MIN = 8  # readings of one series in a batch from which the array checks beat the loop
_NOT_RECENT = frozenset(
    {QcFlag.RANGE.value, QcFlag.FUTURE.value, QcFlag.DUPLICATE.value, QcFlag.CONFLICT.value}
)
_OK = QcFlag.OK.value  # plain str: an enum member's .value is a property, slow in a loop
_CONFLICT = QcFlag.CONFLICT.value
_FLATLINE = QcFlag.FLATLINE.value
_SPIKE = QcFlag.SPIKE.value
_PENDING = ""  # flag placeholder in ``seen`` while a batch's verdicts are computed


@dataclass(frozen=True, slots=True)
class _Params:
    """The QC settings of one kind."""

    spike_limit: float | None  # None: not spike-tested (directions)
    window_ns: int
    min_neighbours: int
    flat_count: int
    flat_min_ns: int = 0  # a run of equal values is flat only when it lasts longer than this


def _params(rules: QcRules, kind: str, resolution: float = 0.0) -> _Params:
    """The settings of a kind; a quantised series may sit on one step around a turning point.

    A signal with curvature ``c`` at a turning point stays within one reporting step ``r`` for
    2·sqrt(2·r/c) seconds: whole-centimetre tide readings near slack water repeat for ~30 min.
    """
    curvature = rules.flatline.turning_curvature.get(kind)  # type: ignore[call-overload]
    quiet_s = 2.0 * math.sqrt(2.0 * resolution / curvature) if curvature and resolution else 0.0
    return _Params(
        rules.spike.limit.get(kind),  # type: ignore[call-overload]  # Kind is a StrEnum: str keys match
        int(rules.spike.window_s * 1e9),
        rules.spike.min_neighbours,
        rules.flatline.count.get(kind, rules.flatline.default),  # type: ignore[call-overload]
        int(quiet_s * 1e9),
    )


@dataclass(slots=True)
class _Series:
    """Recent readings of one (station, kind): arrival order, and the flag given to each time."""

    params: _Params
    recent: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=RECENT))
    seen: OrderedDict[int, tuple[float, str]] = field(default_factory=OrderedDict)
    run_value: float | None = None
    run_length: int = 0
    run_start_ns: int = 0


class QcHistory:
    """Flag each reading against the recent readings of its series; remember what was decided.

    ``resolution`` (station → kind → reporting step) lets the flat-line test tell a quantised
    series resting on one step from a stuck sensor (``turning_curvature`` in config/qc.toml).
    """

    def __init__(
        self, rules: QcRules, resolution: Mapping[str, Mapping[str, float]] | None = None
    ) -> None:
        self._rules = rules
        self._resolution = resolution or {}
        self._series: dict[tuple[str, str], _Series] = {}

    def seed(self, readings: Iterable[Reading]) -> None:
        """Remember stored readings with the flags they were stored with (warm start after a restart).

        A redelivered message whose reading was stored before a crash then gets exactly its stored
        flag, so it rewrites the identical point (the flag is part of the point in InfluxDB).
        """
        for reading in sorted(readings, key=lambda r: r.ts_ns):
            series = self._series_of(reading.station, reading.kind)
            _remember(series, reading.ts_ns, reading.value, reading.qc)

    def _series_of(self, station: str, kind: str) -> _Series:
        series = self._series.get((station, kind))
        if series is None:
            step = self._resolution.get(station, {}).get(kind, 0.0)
            series = self._series[(station, kind)] = _Series(_params(self._rules, kind, step))
        return series

    def first_value(self, station: str, kind: str, ts_ns: int) -> float | None:
        """The value remembered for a point key (the one a conflicting value lost to), if any."""
        series = self._series.get((station, kind))
        earlier = None if series is None else series.seen.get(ts_ns)
        return None if earlier is None else earlier[0]

    def check(self, reading: Reading) -> Reading:
        """The reading with its QC flag decided; a flag set by the payload check is kept."""
        series = self._series_of(reading.station, reading.kind)
        flag = _check_one(series, reading.ts_ns, reading.value, reading.qc)
        return reading if flag == reading.qc else replace(reading, qc=flag)

    def check_blocks(self, blocks: Iterable[Block]) -> list[Block]:
        """Each block with its flags decided, as :meth:`check` decides them reading by reading."""
        out = []
        for block in blocks:
            series = self._series_of(block.station, block.kind)
            if len(block) < ARRAY_MIN:
                flags = [
                    _check_one(series, t, v, q)
                    for t, v, q in zip(block.ts_ns, block.values, block.qc, strict=True)
                ]
            else:
                flags = _check_series(series, block.ts_ns, block.values, block.qc)
            out.append(block if flags == block.qc else block.with_qc(flags))
        return out

    def check_batch(self, readings: list[Reading]) -> list[Reading]:
        """``[check(r) for r in readings]``, with the spike and flat-line tests run per series on arrays."""
        positions: dict[tuple[str, str], list[int]] = {}
        for i, r in enumerate(readings):
            positions.setdefault((r.station, r.kind), []).append(i)
        out = list(readings)
        for block, where in zip(
            self.check_blocks(group(readings)), positions.values(), strict=True
        ):
            for i, flag in zip(where, block.qc, strict=True):
                if flag != readings[i].qc:
                    out[i] = replace(readings[i], qc=flag)
        return out


def _check_one(series: _Series, ts_ns: int, value: float, qc: str) -> str:
    earlier = series.seen.get(ts_ns)
    if earlier is not None:
        if earlier[0] == value:
            return earlier[1]
        return _CONFLICT  # not remembered: the first value stays the point's value
    flag = qc if qc != _OK else _assess(series, ts_ns, value)
    _remember(series, ts_ns, value, flag)
    return flag


def _assess(series: _Series, ts_ns: int, value: float) -> str:
    p = series.params
    if p.spike_limit is not None and len(series.recent) >= p.min_neighbours:
        lo, hi = ts_ns - p.window_ns, ts_ns + p.window_ns
        near = [v for t, v in series.recent if lo <= t <= hi]
        if len(near) >= p.min_neighbours and abs(value - statistics.median(near)) > p.spike_limit:
            return QcFlag.SPIKE.value
    if (
        value == series.run_value
        and series.run_length + 1 >= p.flat_count
        and ts_ns - series.run_start_ns > p.flat_min_ns
    ):
        return QcFlag.FLATLINE.value
    return QcFlag.OK.value


def _remember(series: _Series, ts_ns: int, value: float, flag: str) -> None:
    if ts_ns not in series.seen:
        series.seen[ts_ns] = (value, flag)
        if len(series.seen) > REMEMBERED:
            series.seen.popitem(last=False)
    if flag in _NOT_RECENT:
        return  # not a value of this series' recent past
    series.recent.append((ts_ns, value))
    if value == series.run_value:
        series.run_length += 1
    else:
        series.run_value, series.run_length, series.run_start_ns = value, 1, ts_ns


@dataclass(slots=True)
class _Sorted:
    """A batch of one series after the pass over its point keys (positions index the batch)."""

    flags: list[str]  # final, except for the assessed readings and their in-batch replays
    replays: list[tuple[int, int]] = field(default_factory=list)  # (position, earlier position)
    joined: list[int] = field(default_factory=list)  # positions joining the recent past, in order
    assessed: list[bool] = field(default_factory=list)  # per joined position: gets a verdict


def _check_series(series: _Series, ts: list[int], values: list[float], qc: list[str]) -> list[str]:
    """The flags :func:`_check_one` would give one series' readings in order; remember them.

    Which readings join the series' recent past depends only on the payload flag and on the
    point keys already seen, never on the spike or flat-line verdict; so one pass over the keys
    settles that, and the verdicts of all assessed readings then come from arrays at once.
    """
    seen = series.seen
    if seen.keys().isdisjoint(ts) and len(set(ts)) == len(ts):
        return _check_new(series, ts, values, qc)  # the usual case: all points new
    got = _sort_out(series, ts, values, qc)
    flags = got.flags
    if got.joined:
        verdicts = _join(series, [ts[p] for p in got.joined], [values[p] for p in got.joined])
        for pos, ok, verdict in zip(got.joined, got.assessed, verdicts, strict=True):
            if ok:
                flags[pos] = verdict
                if seen.get(ts[pos]) == (values[pos], _PENDING):
                    seen[ts[pos]] = (values[pos], verdict)
    for pos, first in got.replays:
        flags[pos] = flags[first]
    return flags


def _check_new(series: _Series, ts: list[int], values: list[float], qc: list[str]) -> list[str]:
    """``_check_series`` when no point key repeats: verdicts on arrays, remembered in one update."""
    if qc.count(_OK) == len(qc):  # the usual case: every reading new, none flagged yet
        flags = _join(series, ts, values)
    else:
        flags = list(qc)
        if joined := [i for i, q in enumerate(qc) if q not in _NOT_RECENT]:
            verdicts = _join(series, [ts[i] for i in joined], [values[i] for i in joined])
            for i, verdict in zip(joined, verdicts, strict=True):
                if qc[i] == _OK:
                    flags[i] = verdict
    seen = series.seen
    seen.update(zip(ts, zip(values, flags, strict=True), strict=True))
    for _ in range(len(seen) - REMEMBERED):
        seen.popitem(last=False)
    return flags


def _sort_out(series: _Series, ts: list[int], values: list[float], qc: list[str]) -> _Sorted:
    """Replays, conflicts and payload flags settled; new keys remembered with a pending flag."""
    got = _Sorted(list(qc))
    pending: dict[int, int] = {}  # ts → position of the assessed reading it was first seen with
    seen = series.seen
    for pos, (t, value, q) in enumerate(zip(ts, values, qc, strict=True)):
        earlier = seen.get(t)
        if earlier is not None:
            if earlier[0] != value:
                got.flags[pos] = _CONFLICT
            elif earlier[1] == _PENDING:
                got.replays.append((pos, pending[t]))
            else:
                got.flags[pos] = earlier[1]
            continue
        ok = q == _OK
        seen[t] = (value, _PENDING if ok else q)
        if len(seen) > REMEMBERED:
            seen.popitem(last=False)
        if ok:
            pending[t] = pos
        if q not in _NOT_RECENT:
            got.joined.append(pos)
            got.assessed.append(ok)
    return got


def _join(series: _Series, ts: list[int], values: list[float]) -> list[str]:
    """Verdicts for readings joining the series in order, which then become its recent past."""
    verdicts = _verdicts(series, np.array(ts, np.int64), np.array(values, np.float64))
    _advance(series, ts, values)
    return verdicts


def _verdicts(series: _Series, ts: NDArray[np.int64], values: NDArray[np.float64]) -> list[str]:
    """Spike, flat line or ok for each reading joining the series (given the recent past before it)."""
    flags = [_OK] * ts.size
    same = np.empty(values.size, dtype=bool)
    same[0] = series.run_value is not None and values[0] == series.run_value
    same[1:] = values[1:] == values[:-1]
    if same.any():  # a value repeats: is any run long enough for a flat line?
        run_before = _runs(series, same)
        flat = same & (run_before + 1 >= series.params.flat_count)
        if series.params.flat_min_ns:
            flat &= ts - _run_starts(series, ts, same) > series.params.flat_min_ns
        for i in np.flatnonzero(flat).tolist():
            flags[i] = _FLATLINE
    if series.params.spike_limit is not None:
        for i in np.flatnonzero(_spikes(series, ts, values)).tolist():
            flags[i] = _SPIKE  # spike wins, as in _assess
    return flags


def _runs(series: _Series, same: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Length of the run of equal values before each reading; ``same``: it repeats its predecessor."""
    starts = np.flatnonzero(~same)
    index = np.arange(same.size)
    start_of = np.maximum.accumulate(np.where(~same, index, -1))
    run_after = index - start_of + 1  # length of the run that each reading ends
    if starts.size == 0 or starts[0] > 0:  # the first run continues the series' run
        head = index < (starts[0] if starts.size else same.size)
        run_after[head] = index[head] + 1 + series.run_length
    run_before = np.empty(same.size, dtype=np.int64)
    run_before[0] = series.run_length
    run_before[1:] = run_after[:-1]
    return run_before


def _run_starts(
    series: _Series, ts: NDArray[np.int64], same: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """Time of the first reading of the run of equal values each reading belongs to."""
    index = np.arange(same.size)
    start_of = np.maximum.accumulate(np.where(~same, index, -1))  # -1: the series' own run
    out: NDArray[np.int64] = np.where(
        start_of >= 0, ts[np.maximum(start_of, 0)], series.run_start_ns
    ).astype(np.int64)
    return out


def _spikes(
    series: _Series, ts: NDArray[np.int64], values: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Readings farther than the limit from the median of their recent neighbours in the window."""
    p = series.params
    assert p.spike_limit is not None
    limit, window_ns, need = p.spike_limit, p.window_ns, p.min_neighbours
    past = list(series.recent)
    if len(past) == RECENT:  # the usual case: a full recent past, times in order, close together
        all_ts = np.concatenate([np.array([t for t, _ in past], np.int64), ts])
        if np.all(all_ts[1:] >= all_ts[:-1]) and np.all(ts - all_ts[: ts.size] <= window_ns):
            # every one of the RECENT readings before each reading is a near neighbour (RECENT odd)
            all_v = np.concatenate([[v for _, v in past], values])
            median = np.sort(all_v[_windows(ts.size)], axis=1)[:, RECENT // 2]
            quick: NDArray[np.bool_] = np.abs(values - median) > limit
            return quick
    pad = RECENT - len(past)
    all_ts = np.concatenate([np.zeros(pad, np.int64), [t for t, _ in past], ts]).astype(np.int64)
    all_v = np.concatenate([np.zeros(pad), [v for _, v in past], values])
    known = np.concatenate([np.zeros(pad, bool), np.ones(len(past) + ts.size, bool)])
    before = np.arange(ts.size)[:, None] + np.arange(RECENT)  # the RECENT readings before each one
    win_t, win_v, win_k = all_ts[before], all_v[before], known[before]
    near = win_k & (win_t >= (ts - window_ns)[:, None]) & (win_t <= (ts + window_ns)[:, None])
    n_near = near.sum(axis=1)
    ordered = np.sort(np.where(near, win_v, np.inf), axis=1)  # the near values first, in order
    rows = np.arange(ts.size)
    upper = ordered[rows, np.minimum(n_near // 2, RECENT - 1)]
    lower = ordered[rows, np.maximum((n_near - 1) // 2, 0)]
    median = np.where(n_near % 2 == 1, upper, (lower + upper) / 2)
    enough = (win_k.sum(axis=1) >= need) & (n_near >= need)
    with np.errstate(invalid="ignore"):  # rows without enough neighbours hold inf - inf
        far: NDArray[np.bool_] = enough & (np.abs(values - median) > limit)
    return far


@functools.lru_cache(maxsize=64)
def _windows(n: int) -> NDArray[np.intp]:
    """Indices of the RECENT values before each of ``n`` readings that follow RECENT past ones."""
    return np.arange(n)[:, None] + np.arange(RECENT)


def _advance(series: _Series, ts: list[int], values: list[float]) -> None:
    """Add the readings that joined the series to its recent past and its run of equal values."""
    series.recent.extend(zip(ts[-RECENT:], values[-RECENT:], strict=True))
    last, k = values[-1], 1
    while k < len(values) and values[-k - 1] == last:
        k += 1
    if k == len(values) and last == series.run_value:  # the batch continues the series' run
        series.run_length += k
        return
    series.run_value, series.run_length, series.run_start_ns = last, k, ts[-k]
