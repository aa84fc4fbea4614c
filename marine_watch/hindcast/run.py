"""Hindcasts: a real storm record replayed through the live pipeline on a simulated clock.

A storm case (``config/hindcast/*.toml``, docs/HINDCAST.md) names a gauge record inside the
repository, how to read it (value column, metres per unit, datum, time zone), the tide constants to
predict with, the window and the gauge's warning levels (SAMPLE values with the rule that set them).
The run builds a one-gauge coast from the case (a station, its village and its city, the rules and
QC settings of ``config/``), then for every reading and every tick of the simulated clock does what
the service does: range-checks the reading and flags it against its neighbours
(``sensors.qc.QcHistory``), hands it to :class:`marine_watch.risk.pipeline.Pipeline` (coast state,
forecast high water, levels, zones, held levels) and offers every zone and station to
:class:`marine_watch.alerts.book.AlertBook`, as the alert service does after each evaluation. No broker
and no store: the objects are fed directly, as fast as they go.

What it measures (docs/HINDCAST.md §4): the first time the observed level reached each colour's
level in the window, the first time an alert of that colour (or higher) was raised for the gauge's
village, the lead time between the two, false alarms (a raise to a colour the water did not reach
within the outlook) and misses (a colour reached with no warning of it by then).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marine_watch.alerts.book import AlertBook
from marine_watch.alerts.wording import Wording
from marine_watch.hindcast.case import (
    COLOURS,
    METHODS,
    Case,
    GaugeCase,
    HindcastError,
    Record,
    case_catalogue,
    cases_dir,
    find_case,
    first_reached,
    inside,
    list_cases,
    load_constants,
    read_case,
    read_record,
    repo_root,
    rule_thresholds,
    village_of,
)
from marine_watch.hindcast.outcome import Outcome, Sample, TimelineRow
from marine_watch.hindcast.score import iso, summary, write_outputs
from marine_watch.hub import Hub
from marine_watch.metrics import Metrics
from marine_watch.risk.pipeline import Pipeline
from risk_models.types import Hazard
from sensors.catalogue import Catalogue
from sensors.qc import QcHistory
from sensors.reading import Block, Kind, QcFlag

__all__ = [
    "COLOURS",
    "METHODS",
    "Case",
    "GaugeCase",
    "HindcastError",
    "Outcome",
    "cases_dir",
    "find_case",
    "first_reached",
    "iso",
    "list_cases",
    "read_case",
    "repo_root",
    "rule_thresholds",
    "run",
    "run_sync",
    "summary",
    "village_of",
    "write_outputs",
]

# ------------------------------------------------------------------------------------ the run


@dataclass
class SimClock:
    """The pipeline's clock during a hindcast: set by the run, step by step."""

    now_s: float

    def now(self) -> float:
        return self.now_s


def _steps(case: Case, records: dict[str, Record], tick_s: float) -> np.ndarray:
    """Evaluation times: every reading in the window and every tick."""
    ticks = np.arange(case.start_s, case.end_s + 1e-6, tick_s)
    reads = [
        r.times_s[(r.times_s >= case.start_s) & (r.times_s <= case.end_s)] for r in records.values()
    ]
    return np.unique(np.concatenate([ticks, *reads]))


async def run(
    case: Case,
    base: Catalogue,
    root: Path,
    method: str = "persistence",
    *,
    tick_s: float = 600.0,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> Outcome:
    """Replay the case's records through the pipeline; see the module docstring."""
    if method not in METHODS:
        msg = f"forecast method {method!r}: one of {', '.join(METHODS)}"
        raise HindcastError(msg)
    catalogue = case_catalogue(base, case, method)
    records = {g.station: read_record(inside(root, g.file, "file"), g) for g in case.gauges}
    constants = {g.station: load_constants(root, g) for g in case.gauges}
    out = Outcome(case, method, catalogue, records, constants)
    clock = SimClock(case.start_s)
    qc = QcHistory(
        catalogue.qc,
        {s.id: {k.value: v for k, v in s.resolution.items()} for s in catalogue.stations},
    )
    book = AlertBook(Wording(catalogue))
    steps = _steps(case, records, tick_s)
    cursor = {s: int(np.searchsorted(r.times_s, case.start_s)) for s, r in records.items()}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hindcast") as numerics:
        pipeline = Pipeline(
            catalogue, constants, Hub(capacity=16, stall_s=1.0), Metrics(), clock, numerics
        )
        for i, now in enumerate(steps):
            clock.now_s = float(now)
            for station, record in records.items():
                j = cursor[station]
                while j < record.times_s.size and record.times_s[j] <= now:
                    _feed(pipeline, qc, catalogue, out, station=station, record=record, j=j)
                    j += 1
                cursor[station] = j
            changed = await pipeline.evaluate()
            out.evaluations += 1
            _after_evaluation(out, pipeline, book, changed, float(now))
            progress(i + 1, steps.size)
    return out


def _feed(
    pipeline: Pipeline,
    qc: QcHistory,
    catalogue: Catalogue,
    out: Outcome,
    *,
    station: str,
    record: Record,
    j: int,
) -> None:
    """One reading, as ingest hands it on: range-flagged, QC-flagged, into the pipeline.

    The MQTT decoding is not run: its wire contract refuses times before 2000 (a station clock
    that far back is broken), and the 1983 record predates that; its range test is applied here
    with the same ``config/qc.toml`` ranges.
    """
    value = float(record.values_m[j])
    low, high = catalogue.qc.range[Kind.TIDE_LEVEL]
    flag = QcFlag.OK if low <= value <= high else QcFlag.RANGE
    block = Block(
        station,
        Kind.TIDE_LEVEL.value,
        [round(float(record.times_s[j]) * 1e9)],
        [value],
        [flag.value],
    )
    blocks = qc.check_blocks([block])
    out.readings += sum(len(b) for b in blocks)
    out.flagged += sum(q != QcFlag.OK.value for b in blocks for q in b.qc)
    pipeline.on_readings(blocks)


def _after_evaluation(
    out: Outcome, pipeline: Pipeline, book: AlertBook, changed: Sequence[object], now_s: float
) -> None:
    """What the alert service does after each evaluation, and what the hindcast records."""
    for colour in pipeline.book.current.values():
        if colour in changed and colour.kind == "zone":
            driver = colour.driver or {}
            value, threshold = driver.get("value"), driver.get("threshold")
            out.timeline.append(
                TimelineRow(
                    now_s,
                    colour.id,
                    colour.tier or "",
                    colour.colour,
                    str(driver.get("hazard", "")),
                    float(value) if isinstance(value, int | float) else None,
                    float(threshold) if isinstance(threshold, int | float) else None,
                )
            )
    zones = [c for c in pipeline.book.current.values() if c.kind == "zone"]
    out.messages += [m for c in zones if (m := book.on_colour(c, now_s)) is not None]
    for station in pipeline.catalogue.stations:
        status, reason = pipeline.assessor.station_status(pipeline.state, station, now_s)
        message = book.on_station(station.id, status, reason, now_s)
        if message is not None:
            out.messages.append(message)
    for station in pipeline.catalogue.stations:
        a = pipeline.assessments.get((station.id, Hazard.STORM_SURGE.value))
        if a is None:
            continue
        exp = a.explanation
        hws = exp.get("high_waters") or []
        nxt = hws[0] if isinstance(hws, list) and hws else None
        value = exp.get("value")
        surge = exp.get("persisted_surge_m")
        out.samples.setdefault(station.id, []).append(
            Sample(
                now_s,
                a.level,
                float(value) if isinstance(value, int | float) else None,
                float(nxt["ts_s"]) if nxt else None,
                float(nxt["level_m"]) if nxt else None,
                float(surge) if isinstance(surge, int | float) else None,
            )
        )


def run_sync(
    case: Case,
    base: Catalogue,
    root: Path,
    method: str,
    *,
    tick_s: float = 600.0,
    progress: Callable[[int, int], None] = lambda _d, _t: None,
) -> Outcome:
    """:func:`run` from synchronous code (the CLI, tests)."""
    return asyncio.run(run(case, base, root, method, tick_s=tick_s, progress=progress))
