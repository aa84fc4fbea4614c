"""Hindcasts: a real storm record replayed through the live pipeline on a simulated clock.

A storm case (``config/hindcast/*.toml``, docs/HINDCAST.md) names a gauge record inside the
repository, how to read it (value column, metres per unit, datum, time zone), the tide constants to
predict with, the window and the gauge's warning levels (SAMPLE values with the rule that set them).
The run builds a one-gauge coast from the case (a station, its village and its city, the rules and
QC settings of ``config/``), then for every reading and every tick of the simulated clock does what
the service does: range-checks the reading and flags it against its neighbours
(``sensors.qc.QcHistory``), hands it to :class:`marine_watch.pipeline.Pipeline` (coast state,
forecast high water, levels, zones, held levels) and offers every zone and station to
:class:`marine_watch.alerts.AlertBook`, as the alert service does after each evaluation. No broker
and no store: the objects are fed directly, as fast as they go.

What it measures (docs/HINDCAST.md §4): the first time the observed level reached each colour's
level in the window, the first time an alert of that colour (or higher) was raised for the gauge's
village, the lead time between the two, false alarms (a raise to a colour the water did not reach
within the outlook) and misses (a colour reached with no warning of it by then).
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from marine_watch.alerts import AlertBook, AlertMessage, MsgType, Subject
from marine_watch.errors import ConfigError
from marine_watch.hub import Hub
from marine_watch.metrics import Metrics
from marine_watch.pipeline import Pipeline
from marine_watch.wording import Wording
from risk_models import tide
from risk_models.levels import COLOUR_OF_CODE
from risk_models.types import Hazard
from sensors.catalogue import Catalogue, Station, Tier, WarningLevels, Zone
from sensors.qc import QcHistory
from sensors.reading import Block, Kind, QcFlag

COLOURS = ("blue", "yellow", "orange", "red")
METHODS = ("observed", "persistence", "trend")
HOUR_S = 3600.0
#: A raise counts as verified when the water reaches its colour from this long before it (a late
#: warning is late, not false) to the end of the outlook after it (docs/HINDCAST.md §4).
VERIFY_BEFORE_S = 6 * HOUR_S
Status = Literal["SRC", "X-CHECK", "RECALLED", "SAMPLE", "UNKNOWN"]


class HindcastError(ValueError):
    """A case cannot be run: the message says what to fix."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseThresholds(_Frozen):
    """The gauge's four levels (m in the case datum), their status, source and the rule behind them."""

    blue: float
    yellow: float
    orange: float
    red: float
    status: Status
    source: str
    rule: str = Field(min_length=1)

    @model_validator(mode="after")
    def _rising(self) -> CaseThresholds:
        if not self.blue < self.yellow < self.orange < self.red:
            msg = "thresholds_m must rise strictly: blue < yellow < orange < red"
            raise ValueError(msg)
        return self

    def as_dict(self) -> dict[str, float]:
        return {c: float(getattr(self, c)) for c in COLOURS}


class OfficialLevel(_Frozen):
    """A level an authority publishes for the gauge, with its source (shown beside the SAMPLE ones)."""

    name: str
    level_m: float
    status: Status
    source: str


class GaugeCase(_Frozen):
    """One gauge of a case: its record and how to read it."""

    station: Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,64}$")]
    name: str
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    file: str  # the record, a path inside the repository
    time_column: str
    value_column: str
    metres_per_unit: Annotated[float, Field(gt=0)]
    datum: str = Field(min_length=1)
    time_zone: str = "UTC"  # of times written without an offset: "UTC" or "+HH:MM" / "-HH:MM"
    interval_s: Annotated[float, Field(gt=0, le=86400)]
    resolution_m: Annotated[float, Field(ge=0)] = 0.01
    tide_constants: str  # constants JSON, a path inside the repository
    thresholds_m: CaseThresholds
    official: tuple[OfficialLevel, ...] = ()
    official_note: str = ""


class Case(_Frozen):
    """A storm case: a window on one or more gauge records."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,64}$")]
    title: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    description: str = ""
    gauges: tuple[GaugeCase, ...] = Field(min_length=1, max_length=8)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _window(self) -> Case:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            msg = "from and to need a time zone (e.g. 2003-09-27T00:00:00Z)"
            raise ValueError(msg)
        if not self.start < self.end <= self.start + timedelta(days=60):
            msg = "the window must run forward and last at most 60 days"
            raise ValueError(msg)
        if len({g.station for g in self.gauges}) != len(self.gauges):
            msg = "gauges: duplicate station id"
            raise ValueError(msg)
        return self

    @property
    def start_s(self) -> float:
        return self.start.timestamp()

    @property
    def end_s(self) -> float:
        return self.end.timestamp()


# --------------------------------------------------------------------------------------- cases


def cases_dir(config_dir: Path) -> Path:
    return config_dir / "hindcast"


def repo_root(config_dir: Path) -> Path:
    """Paths in case files are relative to the repository: the folder that holds config/."""
    return config_dir.resolve().parent


def inside(root: Path, relative: str, what: str) -> Path:
    """``relative`` under ``root``; HindcastError when it is absolute or leaves the repository."""
    if Path(relative).is_absolute():
        msg = f"{what} {relative!r} must be a path inside the repository, not an absolute one"
        raise HindcastError(msg)
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        msg = f"{what} {relative!r} leaves the repository"
        raise HindcastError(msg)
    if not path.is_file():
        msg = f"{what} {relative!r}: no such file"
        raise HindcastError(msg)
    return path


def read_case(path: Path) -> Case:
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        msg = f"{path}: no such case file"
        raise HindcastError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML: {exc}"
        raise HindcastError(msg) from None
    try:
        return Case.model_validate(raw.get("case", {}) | {"gauges": raw.get("gauges", [])})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "-"
        msg = f"{path}: {where}: {err['msg']}"
        raise HindcastError(msg) from None


def list_cases(config_dir: Path) -> list[tuple[Path, Case]]:
    """Every shipped case, by name."""
    found = [(p, read_case(p)) for p in sorted(cases_dir(config_dir).glob("*.toml"))]
    return sorted(found, key=lambda pc: pc[1].name)


def find_case(ref: str, config_dir: Path) -> tuple[Path, Case]:
    """A case by name (``--list`` shows them) or by the path of a case file."""
    path = Path(ref)
    if path.suffix == ".toml" or path.is_file():
        return path, read_case(path)
    cases = list_cases(config_dir)
    for p, case in cases:
        if case.name == ref:
            return p, case
    names = ", ".join(c.name for _, c in cases) or "none"
    msg = f"no case {ref!r}; shipped cases: {names} (or give the path of a case file)"
    raise HindcastError(msg)


# ------------------------------------------------------------------------------------- records


def _zone_of(text: str) -> timezone:
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    try:
        sign = -1 if text.startswith("-") else 1
        hours, minutes = text.lstrip("+-").split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    except ValueError:
        msg = f"time_zone {text!r}: use UTC or an offset such as +01:00"
        raise HindcastError(msg) from None


@dataclass(frozen=True, slots=True)
class Record:
    """A gauge record in metres (case datum), UTC seconds, oldest first; empty cells left out."""

    times_s: np.ndarray
    values_m: np.ndarray
    skipped: int


def read_record(path: Path, gauge: GaugeCase) -> Record:
    zone = _zone_of(gauge.time_zone)
    times: list[float] = []
    values: list[float] = []
    skipped = 0
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        for col in (gauge.time_column, gauge.value_column):
            if col not in header:
                msg = f"{gauge.file}: no column {col!r}; the header has {header}"
                raise HindcastError(msg)
        for line, row in enumerate(reader, start=2):
            raw = (row[gauge.value_column] or "").strip()
            try:
                value = float(raw) if raw else math.nan
                when = datetime.fromisoformat((row[gauge.time_column] or "").strip())
            except ValueError:
                msg = f"{gauge.file}:{line}: not a time and a number"
                raise HindcastError(msg) from None
            if not math.isfinite(value):
                skipped += 1
                continue
            when = when if when.tzinfo else when.replace(tzinfo=zone)
            times.append(when.timestamp())
            values.append(value * gauge.metres_per_unit)
    order = np.argsort(np.array(times), kind="stable")
    return Record(np.array(times)[order], np.array(values)[order], skipped)


def first_reached(record: Record, level_m: float, start_s: float, end_s: float) -> float | None:
    """First time in [start, end] the recorded level reached ``level_m``."""
    inside_ = (record.times_s >= start_s) & (record.times_s <= end_s)
    hit = np.flatnonzero(inside_ & (record.values_m >= level_m))
    return float(record.times_s[hit[0]]) if hit.size else None


# ------------------------------------------------------------------------------ the coast


def load_constants(root: Path, gauge: GaugeCase) -> tide.TideConstants:
    path = inside(root, gauge.tide_constants, "tide_constants")
    try:
        return tide.TideConstants.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, json.JSONDecodeError) as exc:
        msg = f"{gauge.tide_constants}: {exc}"
        raise HindcastError(msg) from None


def _square(lat: float, lon: float, half: float) -> tuple[tuple[tuple[float, float], ...], ...]:
    ring = (
        (lon - half, lat - half),
        (lon + half, lat - half),
        (lon + half, lat + half),
        (lon - half, lat + half),
        (lon - half, lat - half),
    )
    return (ring,)


def village_of(gauge: GaugeCase) -> str:
    return f"{gauge.station}-shore"


def case_catalogue(base: Catalogue, case: Case, method: str) -> Catalogue:
    """The case's coast: per gauge a station and its village, all under one city; the rules,
    QC settings and advice of ``config/``, with the chosen surge forecast method."""
    stations = []
    zones = [
        Zone(
            id=case.name,
            name=case.title,
            tier=Tier.CITY,
            polygon=_square(case.gauges[0].lat, case.gauges[0].lon, 0.5),
        )
    ]
    for g in case.gauges:
        t = g.thresholds_m
        stations.append(
            Station(
                id=g.station,
                name=g.name,
                lat=g.lat,
                lon=g.lon,
                kinds=(Kind.TIDE_LEVEL,),
                expected_interval_s=g.interval_s,
                warning_levels=WarningLevels(
                    blue=t.blue,
                    yellow=t.yellow,
                    orange=t.orange,
                    red=t.red,
                    status=t.status,
                    source=t.source,
                    datum=g.datum,
                ),
                reading_datum=g.datum,
                gauge_to_85_m=0.0,  # readings and levels share the case datum
                resolution={Kind.TIDE_LEVEL: g.resolution_m},
            )
        )
        zones.append(
            Zone(
                id=village_of(g),
                name=f"{g.name} shore",
                tier=Tier.VILLAGE,
                parent=case.name,
                polygon=_square(g.lat, g.lon, 0.05),
                stations=(g.station,),
            )
        )
    rules = base.rules.model_copy(update={"surge_forecast": method})
    return Catalogue(
        stations=tuple(stations),
        zones=tuple(zones),
        segments=(),
        shelters=(),
        rules=rules,
        qc=base.qc,
        advice=base.advice,
    )


# ------------------------------------------------------------------------------------ the run


@dataclass
class SimClock:
    """The pipeline's clock during a hindcast: set by the run, step by step."""

    now_s: float

    def now(self) -> float:
        return self.now_s


@dataclass
class Sample:
    """What the pipeline said about one gauge at one evaluation."""

    ts_s: float
    level: int
    value_m: float | None  # the level-deciding water: observed or highest forecast high water
    next_hw_s: float | None
    next_hw_m: float | None
    surge_m: float | None


@dataclass
class TimelineRow:
    ts_s: float
    place: str
    tier: str
    colour: str
    hazard: str
    value: float | None
    threshold: float | None


@dataclass
class Outcome:
    """Everything a run produced (inputs kept for the plots)."""

    case: Case
    method: str
    catalogue: Catalogue
    records: dict[str, Record]
    constants: dict[str, tide.TideConstants]
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    timeline: list[TimelineRow] = field(default_factory=list)
    messages: list[AlertMessage] = field(default_factory=list)
    readings: int = 0
    flagged: int = 0
    evaluations: int = 0


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
                    _feed(pipeline, qc, catalogue, out, station, record, j)
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


# ------------------------------------------------------------------------------------ results


def iso(ts_s: float | None) -> str | None:
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
    from marine_watch.hindcast_plot import plot_gauge

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


# ------------------------------------------------------------------------ threshold rule


def rule_thresholds(constants: tide.TideConstants, year: int) -> dict[str, float]:
    """The SAMPLE levels of the shipped cases (docs/HINDCAST.md §2), from the predicted tide of
    ``year``: MHHW and MLLW (mean higher high and lower low water per tidal day), GT = MHHW −
    MLLW; blue = MHHW + 0.30 m; yellow, orange, red = NOAA's minor, moderate and major
    high-tide-flooding levels, MHHW + 0.04·GT + 0.50, + 0.03·GT + 0.80, + 0.04·GT + 1.17 m
    (docs/DOMAIN.md §5.2)."""
    start = datetime(year, 1, 1, tzinfo=UTC).timestamp()
    end = datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()
    t = np.arange(start, end, 600.0)
    hw = tide.high_low_waters(t, tide.predict(constants, t))
    day = 24.8412 * HOUR_S  # a tidal (lunar) day
    highs_t, highs_h = hw.high
    lows_t, lows_h = hw.low
    mhhw = _mean_of_daily(highs_t, highs_h, start, day, np.max)
    mllw = _mean_of_daily(lows_t, lows_h, start, day, np.min)
    gt = mhhw - mllw
    return {
        "mhhw": mhhw,
        "mllw": mllw,
        "gt": gt,
        "blue": mhhw + 0.30,
        "yellow": mhhw + 0.04 * gt + 0.50,
        "orange": mhhw + 0.03 * gt + 0.80,
        "red": mhhw + 0.04 * gt + 1.17,
    }


def _mean_of_daily(
    t: np.ndarray, h: np.ndarray, start: float, day: float, pick: Callable[..., float]
) -> float:
    bins = ((t - start) // day).astype(int)
    return float(np.mean([pick(h[bins == b]) for b in np.unique(bins)]))


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


def check_config(config_dir: Path) -> None:
    """ConfigError when a shipped case file is broken (``check-config`` and start-up checks)."""
    try:
        list_cases(config_dir)
    except HindcastError as exc:
        raise ConfigError(cases_dir(config_dir), "-", str(exc)) from None
