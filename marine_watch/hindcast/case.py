"""Storm cases for hindcasts (``config/hindcast/*.toml``, docs/HINDCAST.md §2): the case files,
the gauge records they name, the one-gauge coast built from them and the rule of their levels."""

from __future__ import annotations

import csv
import json
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from risk_models import tide
from sensors.catalogue import Catalogue, Station, Tier, WarningLevels, Zone
from sensors.reading import Kind

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
        """The thresholds by colour name."""
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
        """The case's start in Unix seconds."""
        return self.start.timestamp()

    @property
    def end_s(self) -> float:
        """The case's end in Unix seconds."""
        return self.end.timestamp()


# --------------------------------------------------------------------------------------- cases


def cases_dir(config_dir: Path) -> Path:
    """Where the hindcast case files live under ``config_dir``."""
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
    """Read and check one case file; HindcastError names what is wrong and where."""
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


MAX_RECORD_BYTES = 64 * 1024 * 1024  # a decade of 10-min values is ~15 MB


def read_record(path: Path, gauge: GaugeCase) -> Record:
    """The gauge's record in metres; HindcastError names the file and line of a bad row."""
    if path.stat().st_size > MAX_RECORD_BYTES:
        msg = f"{gauge.file}: larger than {MAX_RECORD_BYTES // 2**20} MB; cut it to the storm"
        raise HindcastError(msg)
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
    """The tide constants of a gauge, from its file under ``root``; HindcastError if unreadable."""
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
    """The id of the village the hindcast puts on the shore at a gauge."""
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
