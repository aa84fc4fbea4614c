"""Decode and validate MQTT payloads into readings (MQTT contract v1, ARCHITECTURE.md).

Topic ``{root}/{station}/{kind}`` carries ``{"ts": RFC3339 | epoch ms, "value": float, "unit": str?, "seq": int?}``;
``{root}/{station}/batch`` carries a list of those, each with ``"kind"``. A bad message raises
:class:`PayloadError` with a machine-readable :class:`Reason`; in a batch, bad items are returned as
rejects beside the good readings so that one bad item never costs the others.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

import msgspec
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from sensors.reading import UNITS, Block, Kind, QcFlag, Reading, group

NS_PER_S = 1_000_000_000
MAX_ABS_VALUE = 1e6  # anything larger is a corrupted number, not a physical reading
MIN_TS_NS = 946_684_800 * NS_PER_S  # 2000-01-01: older is a broken clock
FAR_FUTURE_S = 86_400.0  # beyond a day ahead is a broken clock, not clock skew
BATCH = "batch"

#: Physical range per kind, (low, high) in its unit: outside it a reading is kept but flagged
#: ``range`` (not used for risk). The service passes config/qc.toml's ranges.
Ranges = Mapping[Kind, tuple[float, float]]


class Reason(StrEnum):
    """Why a payload was dead-lettered (also a metric label)."""

    BAD_TOPIC = "bad_topic"
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    BAD_SHAPE = "bad_shape"
    BAD_VALUE = "bad_value"
    NOT_FINITE = "not_finite"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    UNKNOWN_STATION = "unknown_station"
    UNKNOWN_KIND = "unknown_kind"
    WRONG_UNIT = "wrong_unit"


class PayloadError(Exception):
    """A payload that cannot become a reading; ``reason`` is the dead letter's reason."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ts: int | str
    value: float = Field(allow_inf_nan=True)
    unit: str | None = None
    seq: int | None = None
    kind: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _number_only(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = "value must be a JSON number"
            raise ValueError(msg)
        return value


class _FastItem(msgspec.Struct, forbid_unknown_fields=True):
    """The batch fast path's item: the shape of :class:`_Item`, decoded and typed in one C pass.

    ``value`` is a JSON number (never a bool, a string, NaN or an infinity), as
    ``_Item._number_only`` asks. Whatever this refuses goes item by item through ``_Item``, which
    words the dead letter; so this may only be stricter than ``_Item``, never laxer.
    """

    ts: int | str
    value: float
    unit: str | None = None
    seq: int | None = None
    kind: str | None = None


_ONE = TypeAdapter(_Item)
_MANY = msgspec.json.Decoder(list[_FastItem])
_RAW_LIST = TypeAdapter(list[Any])
_KINDS: dict[str | None, Kind] = {k.value: k for k in Kind}
NS_PER_MS = 1_000_000
MIN_TS_MS = MIN_TS_NS // NS_PER_MS
MAX_TS_MS = 2**62 // NS_PER_MS  # beyond it ns overflow int64; such items take the exact slow path


@dataclass(frozen=True, slots=True)
class Reject:
    """One bad item of a batch."""

    reason: Reason
    detail: str
    item: str


@dataclass(frozen=True, slots=True)
class Decoded:
    """Outcome of one message: its good readings, one block per series, and the rejects of a batch."""

    blocks: list[Block]
    rejects: list[Reject] = field(default_factory=list)

    @property
    def readings(self) -> list[Reading]:
        """The good readings, block after block."""
        return [r for block in self.blocks for r in block.readings()]


def parse_topic(topic: str, root: str) -> tuple[str, str]:
    """Split ``{root}/{station}/{kind}`` into (station, kind); PayloadError(BAD_TOPIC) otherwise."""
    prefix = root.rstrip("/") + "/"
    if not topic.startswith(prefix):
        raise PayloadError(Reason.BAD_TOPIC, f"topic {topic!r} is not under {root!r}")
    parts = topic[len(prefix) :].split("/")
    if len(parts) != 2 or not all(parts):
        raise PayloadError(Reason.BAD_TOPIC, f"topic {topic!r} is not {root}/<station>/<kind>")
    return parts[0], parts[1]


def decode(
    topic: str,
    payload: bytes,
    *,
    root: str,
    stations: Collection[str],
    now_s: float,
    max_bytes: int = 256 * 1024,
    future_tolerance_s: float = 300.0,
    ranges: Ranges,
) -> Decoded:
    """Decode one MQTT message into readings; raise PayloadError when nothing in it is usable."""
    if len(payload) > max_bytes:
        raise PayloadError(Reason.TOO_LARGE, f"{len(payload)} bytes > {max_bytes}")
    station, kind = parse_topic(topic, root)
    if station not in stations:
        raise PayloadError(Reason.UNKNOWN_STATION, f"station {station!r} is not in the catalogue")
    check = _Checker(station, now_s, future_tolerance_s, ranges)
    if kind != BATCH:
        r = check.reading(kind, _validate_one(payload))
        return Decoded([Block(r.station, r.kind, [r.ts_ns], [r.value], [r.qc])])
    return _decode_batch(payload, check)


def _validate_one(payload: bytes) -> _Item:
    try:
        return _ONE.validate_json(payload)
    except ValidationError as exc:
        raise _shape_error(exc) from None


def _decode_batch(payload: bytes, check: _Checker) -> Decoded:
    try:
        items = _MANY.decode(payload)
    except msgspec.DecodeError:  # bad JSON, NaN, a wrong shape: the exact path words the reason
        return _decode_batch_items(payload, check)
    if not items:
        raise PayloadError(Reason.BAD_SHAPE, "empty batch")
    names = [item.kind for item in items]
    first = names[0]
    single = names.count(first) == len(names)  # the usual batch: one kind
    kinds = [_KINDS.get(first)] * len(names) if single else [_KINDS.get(name) for name in names]
    good, ts_ms, values = _vector_checks(items, kinds, check, single=single)
    ahead_s = ts_ms / 1000 - check.now_s  # ms / 1000 rounds as the per-item ns / 1e9 does
    lo: float | NDArray[np.float64]
    hi: float | NDArray[np.float64]
    if single and kinds[0] is not None:
        lo, hi = check.ranges[kinds[0]]
    else:
        lo = np.array([check.ranges[k][0] if k is not None else 0.0 for k in kinds])
        hi = np.array([check.ranges[k][1] if k is not None else 0.0 for k in kinds])
    future = ahead_s > check.future_tolerance_s
    in_range = (values >= lo) & (values <= hi)
    if in_range.all() and not future.any():
        flags = [QcFlag.OK.value] * len(items)
    else:
        flags = np.where(
            future, QcFlag.FUTURE.value, np.where(in_range, QcFlag.OK.value, QcFlag.RANGE.value)
        ).tolist()
    ts_ns: list[int] = (np.where(good, ts_ms, 0) * NS_PER_MS).tolist()
    floats: list[float] = values.tolist()
    station = check.station
    if single and first is not None and good.all():  # the usual batch
        return Decoded([Block(station, first, ts_ns, floats, flags)])
    readings: list[Reading] = []
    rejects: list[Reject] = []
    for i, ok in enumerate(good.tolist()):
        if ok:
            name = names[i]  # good: the name of a known kind, i.e. its str value
            assert name is not None
            readings.append(Reading(station, name, ts_ns[i], floats[i], flags[i]))
            continue
        item = _ONE.validate_python(msgspec.structs.asdict(items[i]))  # the reading or its reason
        try:
            readings.append(check.reading(item.kind, item))
        except PayloadError as err:
            rejects.append(Reject(err.reason, err.detail, item.model_dump_json()))
    return _batch_outcome(readings, rejects)


def _vector_checks(
    items: list[_FastItem], kinds: list[Kind | None], check: _Checker, *, single: bool
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.float64]]:
    """(good, ts in epoch ms, values) of a batch, checked as arrays.

    ``good`` is False for any item that the per-item checks of :meth:`_Checker.reading` might
    refuse: unknown kind, not finite or absurd value, wrong unit, RFC 3339 or out-of-range time,
    far future. Those items go through the per-item checks, so the array checks need only be sure
    about the items they pass. ``single``: every item has the kind ``kinds[0]``.
    """
    n = len(items)
    values = np.array([item.value for item in items], dtype=np.float64)
    raw_ts = [item.ts for item in items]
    int_ts = cast("list[int]", raw_ts)  # if the test below holds
    if set(map(type, raw_ts)) == {int} and min(int_ts) >= MIN_TS_MS and max(int_ts) <= MAX_TS_MS:
        ts_ms = np.array(raw_ts, dtype=np.int64)  # the usual batch: epoch ms, all in range
        good = np.ones(n, dtype=bool)
    else:
        ints = [type(t) is int and MIN_TS_MS <= t <= MAX_TS_MS for t in raw_ts]
        ts_ms = np.array([t if ok else 0 for t, ok in zip(raw_ts, ints, strict=True)], np.int64)
        good = np.array(ints, dtype=bool)
    units = [item.unit for item in items]
    if single and units.count(units[0]) == n:  # one kind, one unit (or none) throughout
        kind, unit = kinds[0], units[0]
        if kind is None or (unit is not None and unit != UNITS[kind]):
            good[:] = False
    else:
        good &= np.array(
            [
                k is not None and (u is None or u == UNITS[k])
                for k, u in zip(kinds, units, strict=True)
            ],
            dtype=bool,
        )
    good &= np.isfinite(values) & (np.abs(values) <= MAX_ABS_VALUE)
    good &= ts_ms / 1000 - check.now_s <= FAR_FUTURE_S
    return good, ts_ms, values


def _decode_batch_items(payload: bytes, check: _Checker) -> Decoded:
    try:
        raw_items = _RAW_LIST.validate_json(payload)
    except ValidationError as exc:
        raise _shape_error(exc) from None
    readings: list[Reading] = []
    rejects: list[Reject] = []
    for raw in raw_items:
        try:
            item = _ONE.validate_python(raw)
            readings.append(check.reading(item.kind, item))
        except ValidationError as exc:
            err = _shape_error(exc)
            rejects.append(Reject(err.reason, err.detail, repr(raw)[:1024]))
        except PayloadError as err:
            rejects.append(Reject(err.reason, err.detail, repr(raw)[:1024]))
    return _batch_outcome(readings, rejects)


def _batch_outcome(readings: list[Reading], rejects: list[Reject]) -> Decoded:
    if not readings and not rejects:
        raise PayloadError(Reason.BAD_SHAPE, "empty batch")
    return Decoded(group(readings), rejects)


def _shape_error(exc: ValidationError) -> PayloadError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "payload"
    if err["type"] == "json_invalid":
        return PayloadError(Reason.NOT_JSON, err["msg"])
    return PayloadError(Reason.BAD_SHAPE, f"{loc}: {err['msg']}")


@dataclass(frozen=True, slots=True)
class _Checker:
    station: str
    now_s: float
    future_tolerance_s: float
    ranges: Ranges

    def reading(self, kind_name: str | None, item: _Item) -> Reading:
        kind = _kind(kind_name)
        value = _value(item.value)
        if item.unit is not None and item.unit != UNITS[kind]:
            raise PayloadError(
                Reason.WRONG_UNIT, f"{kind.value} must be in {UNITS[kind]!r}, got {item.unit!r}"
            )
        ts_ns = _timestamp_ns(item.ts)
        ahead_s = ts_ns / NS_PER_S - self.now_s
        if ahead_s > FAR_FUTURE_S:
            raise PayloadError(
                Reason.FUTURE_TIMESTAMP, f"timestamp is {ahead_s:.0f} s in the future"
            )
        lo, hi = self.ranges[kind]
        qc = QcFlag.OK
        if ahead_s > self.future_tolerance_s:
            qc = QcFlag.FUTURE
        elif not lo <= value <= hi:
            qc = QcFlag.RANGE
        return Reading(self.station, kind.value, ts_ns, value, qc.value)


def _kind(name: str | None) -> Kind:
    if name is None:
        raise PayloadError(Reason.BAD_SHAPE, "batch item has no 'kind'")
    try:
        return Kind(name)
    except ValueError:
        raise PayloadError(Reason.UNKNOWN_KIND, f"unknown kind {name!r}") from None


def _value(value: float) -> float:
    if not math.isfinite(value):
        raise PayloadError(Reason.NOT_FINITE, f"value {value!r} is not finite")
    if abs(value) > MAX_ABS_VALUE:
        raise PayloadError(Reason.BAD_VALUE, f"value {value!r} is beyond any physical reading")
    return value


def _timestamp_ns(ts: int | str) -> int:
    if isinstance(ts, int):
        ts_ns = ts * 1_000_000  # epoch milliseconds (MQTT contract)
    else:
        try:
            parsed = datetime.fromisoformat(ts)
        except ValueError:
            raise PayloadError(Reason.BAD_TIMESTAMP, f"ts {ts[:40]!r} is not RFC 3339") from None
        if parsed.tzinfo is None:
            raise PayloadError(Reason.BAD_TIMESTAMP, "ts has no UTC offset")
        ts_ns = int(parsed.timestamp() * NS_PER_S)
    if ts_ns < MIN_TS_NS:
        raise PayloadError(Reason.BAD_TIMESTAMP, "ts is before 2000-01-01 (epoch ms expected)")
    return ts_ns
