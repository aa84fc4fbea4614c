"""Scoring a hindcast (docs/HINDCAST.md §4): what the water did against what was warned, and the
files a run writes (summary.json, timeline.csv, plots)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from marine_watch.alerts.book import MsgType, Subject
from marine_watch.hindcast.case import (
    COLOURS,
    HOUR_S,
    VERIFY_BEFORE_S,
    GaugeCase,
    first_reached,
    village_of,
)
from marine_watch.hindcast.outcome import Outcome
from risk_models.levels import COLOUR_OF_CODE

# ------------------------------------------------------------------------------------ results


def iso(ts_s: float | None) -> str | None:
    """``ts_s`` as ISO 8601 UTC with a Z; None stays None."""
    if ts_s is None:
        return None
    return datetime.fromtimestamp(ts_s, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Raise:
    """A message that raised a village's colour (an Alert, or an Update to a higher colour)."""

    ts_s: float
    level: int
    msg_type: str
    verified: bool


def raises_of(out: Outcome, gauge: GaugeCase) -> list[Raise]:
    """The raises of the gauge's village, each verified or not against the record."""
    village = village_of(gauge)
    record = out.records[gauge.station]
    thresholds = gauge.thresholds_m.as_dict()
    outlook_s = out.catalogue.rules.outlook_hours * HOUR_S
    found = []
    level_now = 0
    for m in out.messages:
        if m.subject != Subject.ZONE or m.subject_id != village:
            continue
        if m.msg_type == MsgType.CANCEL:
            level_now = 0
            continue
        if m.level > level_now:
            level_m = thresholds[COLOURS[m.level - 1]]
            seen = first_reached(record, level_m, m.sent_s - VERIFY_BEFORE_S, m.sent_s + outlook_s)
            found.append(Raise(m.sent_s, m.level, m.msg_type.value, seen is not None))
        level_now = m.level
    return found


def level_history(out: Outcome, gauge: GaugeCase) -> list[tuple[float, int]]:
    """(time, level) of the gauge's village as its alert messages set it; a cancel sets 0."""
    village = village_of(gauge)
    return [
        (m.sent_s, 0 if m.msg_type == MsgType.CANCEL else m.level)
        for m in out.messages
        if m.subject == Subject.ZONE and m.subject_id == village
    ]


def warned_from(history: list[tuple[float, int]], level: int, seen_s: float | None) -> float | None:
    """When the warning of ``level`` (or higher) that stood at ``seen_s`` was raised.

    The start of the unbroken run at ``level`` or above that covers ``seen_s``; when none covers
    it, the first raise to ``level`` after it (a late warning); when the water never got there,
    the first raise to ``level`` at all.
    """
    start: float | None = None
    for ts, lv in history:
        if seen_s is not None and ts > seen_s:
            if start is not None:
                return start
            if lv >= level:
                return ts  # late
            continue
        if lv >= level and start is None:
            start = ts
        elif lv < level:
            start = None
        if seen_s is None and start is not None:
            return start
    return start


def summary(out: Outcome, case_file: str) -> dict[str, object]:
    """The summary.json document (docs/HINDCAST.md §4)."""
    gauges = []
    alerts = false_alarms = missed = 0
    for g in out.case.gauges:
        record = out.records[g.station]
        thresholds = g.thresholds_m.as_dict()
        raises = raises_of(out, g)
        observed: dict[str, str | None] = {}
        raised: dict[str, str | None] = {}
        lead: dict[str, float | None] = {}
        history = level_history(out, g)
        for i, colour in enumerate(COLOURS, start=1):
            seen = first_reached(record, thresholds[colour], out.case.start_s, out.case.end_s)
            first = warned_from(history, i, seen)
            observed[colour], raised[colour] = iso(seen), iso(first)
            lead[colour] = None if seen is None or first is None else round(seen - first, 1)
            if seen is not None and (first is None or first > seen):
                missed += 1
        alerts += len(raises)
        false_alarms += sum(not r.verified for r in raises)
        window = (record.times_s >= out.case.start_s) & (record.times_s <= out.case.end_s)
        peak = int(np.argmax(np.where(window, record.values_m, -np.inf)))
        gauges.append(
            {
                "station": g.station,
                "name": g.name,
                "file": g.file,
                "value_column": g.value_column,
                "metres_per_unit": g.metres_per_unit,
                "datum": g.datum,
                "time_zone": g.time_zone,
                "tide_constants": g.tide_constants,
                "thresholds_m": thresholds,
                "thresholds_status": g.thresholds_m.status,
                "thresholds_rule": g.thresholds_m.rule,
                "official": [o.model_dump() for o in g.official],
                "observed_peak": {
                    "time": iso(float(record.times_s[peak])),
                    "m": float(record.values_m[peak]),
                },
                "observed_exceedance": observed,
                "first_raised": raised,
                "lead_time_s": lead,
                "raises": [
                    {
                        "time": iso(r.ts_s),
                        "colour": COLOUR_OF_CODE[r.level + 1],
                        "msg_type": r.msg_type,
                        "verified": r.verified,
                    }
                    for r in raises
                ],
            }
        )
    return {
        "case": out.case.name,
        "title": out.case.title,
        "case_file": case_file,
        "from": iso(out.case.start_s),
        "to": iso(out.case.end_s),
        "gauges": gauges,
        "alerts": alerts,
        "false_alarms": false_alarms,
        "missed": missed,
        "forecast": out.method,
        "readings": out.readings,
        "qc_flagged": out.flagged,
        "evaluations": out.evaluations,
        "messages": len(out.messages),
    }


def write_timeline(out: Outcome, path: Path) -> None:
    """Write the colour changes of ``out`` as CSV (time, place, tier, colour, hazard, value, threshold)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["time", "place", "tier", "colour", "hazard", "value", "threshold"])
        for row in out.timeline:
            writer.writerow(
                [
                    iso(row.ts_s),
                    row.place,
                    row.tier,
                    row.colour,
                    row.hazard,
                    "" if row.value is None else round(row.value, 3),
                    "" if row.threshold is None else row.threshold,
                ]
            )


def write_outputs(out: Outcome, out_dir: Path, case_file: str) -> dict[str, object]:
    """summary.json, timeline.csv and one plot per gauge under ``out_dir``; the summary."""
    from marine_watch.hindcast.plot import plot_gauge  # noqa: PLC0415 - matplotlib only when plotting

    out_dir.mkdir(parents=True, exist_ok=True)
    doc = summary(out, case_file)
    plots = []
    for g in out.case.gauges:
        name = f"{g.station}.png"
        plot_gauge(out, g, out_dir / name)
        plots.append(name)
    doc["plots"] = plots
    write_timeline(out, out_dir / "timeline.csv")
    (out_dir / "summary.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return doc
