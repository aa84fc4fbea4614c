"""Replay a historical record (CSV) over MQTT through the live pipeline, at a chosen speed.

The readings keep their historic timestamps (the service accepts any past time), are published as
batch messages on ``{root}/{station}/batch`` with QoS 1, and are paced so that ``speed`` seconds of
record pass per real second (0: as fast as the broker takes them).
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from marine_watch.mqtt.client import Account, MqttEndpoint
from sensors.catalogue import Catalogue
from sensors.reading import UNITS, Kind

BATCH_MAX = 200  # readings per MQTT message (about 15 kB)
BATCH_WINDOW_S = 0.1  # real seconds of pacing gathered into one message
EPOCH_MS_ABOVE = 1e11  # a larger epoch number is in milliseconds (1e11 s is in the year 5138)


class ReplayError(ValueError):
    """A replay cannot start: the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Series:
    """A record to replay: UTC epoch seconds, oldest first, and values in the kind's unit."""

    times_s: tuple[float, ...]
    values: tuple[float, ...]
    skipped: int  # rows with an empty or NaN value


def _parse_time(text: str, where: str) -> float:
    raw = text.strip()
    try:
        if raw.replace(".", "", 1).isdigit():  # epoch seconds, or milliseconds when huge
            number = float(raw)
            return number / 1000 if number > EPOCH_MS_ABOVE else number
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        msg = f"{where}: {raw!r} is not a time (use ISO 8601 such as 2018-01-01T00:00:00Z, or epoch seconds)"
        raise ReplayError(msg) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # documented: naive times are UTC
    return parsed.timestamp()


def read_series(path: Path, time_col: str, value_col: str, unit_scale: float = 1.0) -> Series:
    """Read ``time_col`` and ``value_col`` of a CSV; values are multiplied by ``unit_scale``."""
    if not path.is_file():
        msg = f"{path}: no such file"
        raise ReplayError(msg)
    rows: list[tuple[float, float]] = []
    skipped = 0
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in (time_col, value_col) if c not in header]
        if missing:
            msg = f"{path}: no column {missing[0]!r}; the header has {header} (use --time-col / --value-col)"
            raise ReplayError(msg)
        for line, row in enumerate(reader, start=2):
            raw = (row[value_col] or "").strip()
            if not raw or raw.lower() == "nan":
                skipped += 1
                continue
            try:
                value = float(raw) * unit_scale
            except ValueError:
                msg = f"{path}:{line}: {value_col}={raw!r} is not a number"
                raise ReplayError(msg) from None
            if not math.isfinite(value):
                skipped += 1
                continue
            rows.append((_parse_time(row[time_col] or "", f"{path}:{line}"), value))
    if not rows:
        msg = f"{path}: no readings (an empty file, or every {value_col!r} is empty)"
        raise ReplayError(msg)
    rows.sort()
    return Series(tuple(t for t, _ in rows), tuple(v for _, v in rows), skipped)


def check_target(catalogue: Catalogue, station_id: str, kind: str) -> Kind:
    """The kind to publish, after checking that the station exists and measures it."""
    station = catalogue.station(station_id)
    if station is None:
        known = ", ".join(s.id for s in catalogue.stations)
        msg = f"unknown station {station_id!r}; config/stations.toml has: {known}"
        raise ReplayError(msg)
    try:
        parsed = Kind(kind)
    except ValueError:
        msg = f"unknown kind {kind!r}; one of: {', '.join(k.value for k in Kind)}"
        raise ReplayError(msg) from None
    if parsed not in station.kinds:
        have = ", ".join(k.value for k in station.kinds)
        msg = f"station {station_id!r} does not measure {kind}; it has: {have}"
        raise ReplayError(msg)
    return parsed


def batches(
    series: Series, kind: Kind, speed: float
) -> list[tuple[float, list[dict[str, object]]]]:
    """Messages to send with their offset in real seconds from the start of the replay."""
    t0 = series.times_s[0]
    out: list[tuple[float, list[dict[str, object]]]] = []
    for ts, value in zip(series.times_s, series.values, strict=True):
        due = (ts - t0) / speed if speed > 0 else 0.0
        item: dict[str, object] = {
            "kind": kind.value,
            "ts": round(ts * 1000),
            "value": value,
            "unit": UNITS[kind],
        }
        if out and len(out[-1][1]) < BATCH_MAX and due - out[-1][0] < BATCH_WINDOW_S:
            out[-1][1].append(item)
        else:
            out.append((due, [item]))
    return out


async def publish(
    endpoint: MqttEndpoint,
    topic: str,
    messages: Sequence[tuple[float, list[dict[str, object]]]],
    *,
    account: Account | None = None,
    progress: Callable[[int], None] = lambda _n: None,
) -> int:
    """Publish each message at its offset (QoS 1) as ``account``; ``progress`` gets the readings sent so far."""
    sent = 0
    identifier = f"marine-watch-replay-{time.monotonic_ns()}"
    async with endpoint.client(identifier, account) as client:
        start = time.monotonic()
        for due, items in messages:
            wait = due - (time.monotonic() - start)
            if wait > 0:
                await asyncio.sleep(wait)
            await client.publish(topic, json.dumps(items), qos=1)
            sent += len(items)
            progress(sent)
    return sent
