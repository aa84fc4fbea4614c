"""What the coast is: stations, zones, dike segments, shelters and warning thresholds.

Pure models (pydantic) built from plain data; the service loads the files in ``config/`` and hands
the parsed dicts to :func:`build_catalogue`. Every number that is not official carries a ``status``
(DOMAIN.md tags: SRC, X-CHECK, RECALLED, SAMPLE) and a ``source``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from risk_models.types import Thresholds
from sensors.advice import Advice
from sensors.reading import Kind

#: Topic levels under the MQTT root that are not stations (risk out, forecast in).
RESERVED_IDS = frozenset({"risk", "forecast"})
Status = Literal["SRC", "X-CHECK", "RECALLED", "SAMPLE", "UNKNOWN"]
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
NVD1985 = "NVD1985"  # 1985 National Height Datum (85基面), the datum of warning tide levels


class Frozen(BaseModel):
    """Immutable, strict-about-unknown-keys base for config models."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Tier(StrEnum):
    """Administrative tier of a zone (DOMAIN.md §7)."""

    CITY = "city"
    TOWN = "town"  # town / street 乡镇/街道
    VILLAGE = "village"  # village / community 村/社区


class FourBounds(Frozen):
    """Four lower bounds, blue..red, with their provenance; they must rise strictly."""

    blue: float
    yellow: float
    orange: float
    red: float
    status: Status
    source: str

    @model_validator(mode="after")
    def _rising(self) -> Self:
        self.thresholds()  # raises ValueError when not strictly rising
        return self

    def thresholds(self) -> Thresholds:
        """As risk_models thresholds."""
        return Thresholds(self.blue, self.yellow, self.orange, self.red)


class WarningLevels(FourBounds):
    """Four warning tide levels of a station (blue..red), metres in ``datum``."""

    datum: str = NVD1985


class Station(Frozen):
    """A field station and what it measures."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,64}$")]
    name: str
    name_zh: str = ""
    lat: Lat
    lon: Lon
    kinds: tuple[Kind, ...]
    expected_interval_s: Annotated[float, Field(gt=0)] = 60.0
    sample: bool = True
    exposure: Literal["nearshore", "offshore"] = "nearshore"
    warning_levels: WarningLevels | None = None
    # Datum of incoming tide readings and its offset: z_85 = z - gauge_to_85_m (docs/DOMAIN.md
    # §1.4). Both are required for a station that measures tide_level.
    reading_datum: str | None = None
    gauge_to_85_m: float = 0.0
    tide_constants: str | None = None  # file name under config/tide_constants/
    cameras: tuple[str, ...] = ()
    # The step a reading is reported in, per kind (e.g. tide_level 0.01 m for whole centimetres);
    # the flat-line test allows a quantised value to stay put around a turning point.
    resolution: dict[Kind, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _datum(self) -> Self:
        if Kind.TIDE_LEVEL not in self.kinds:
            return self
        if self.reading_datum is None or "gauge_to_85_m" not in self.model_fields_set:
            msg = (
                "a tide station must declare reading_datum (datum of its incoming readings) and"
                " gauge_to_85_m (z_85 = z - gauge_to_85_m, docs/DOMAIN.md §1.4)"
            )
            raise ValueError(msg)
        if self.reading_datum == NVD1985 and self.gauge_to_85_m != 0:
            msg = f"reading_datum {NVD1985} needs gauge_to_85_m = 0"
            raise ValueError(msg)
        return self


class Contact(Frozen):
    """Who to call in a zone."""

    name: str
    phone: str
    role: str = ""


class Zone(Frozen):
    """An administrative zone with its polygon (lon, lat rings, GeoJSON order)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,64}$")]
    name: str
    name_zh: str = ""
    tier: Tier
    parent: str | None = None
    polygon: tuple[tuple[tuple[float, float], ...], ...]
    stations: tuple[str, ...] = ()  # stations whose hazards drive this zone directly
    segments: tuple[str, ...] = ()  # dike segments on this zone's shore
    contact: Contact | None = None
    geocode: str = ""  # administrative division code (SAMPLE where invented)
    sample: bool = True


class DikeSegment(Frozen):
    """A stretch of sea dike (EurOtop inputs; SAMPLE geometry unless stated)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,64}$")]
    name: str
    name_zh: str = ""
    line: tuple[tuple[float, float], ...]
    structure: Literal["sloping", "vertical"] = "sloping"
    crest_level_m: float  # crest level, m in the 1985 datum
    toe_level_m: float = -1.0  # bed level at the toe, m (85)
    cot_alpha: Annotated[float, Field(gt=0)] = 3.0
    gamma_f: Annotated[float, Field(gt=0, le=1)] = 1.0
    use: Literal["people", "vehicles", "property"] = "people"
    normal_deg: float = 160.0  # direction the dike faces (waves from here are head-on)
    tide_station: str
    wave_station: str
    status: Status = "SAMPLE"


class Shelter(Frozen):
    """An emergency shelter."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,64}$")]
    name: str
    name_zh: str = ""
    lat: Lat
    lon: Lon
    capacity: int = 0
    zone: str
    open: bool = True
    address: str = ""


class HazardTable(FourBounds):
    """A four-colour threshold table of one hazard, in ``unit``."""

    unit: str


class WindRules(Frozen):
    """How the wind signal criteria are applied (docs/DOMAIN.md §2)."""

    mean_window_s: Annotated[float, Field(gt=0, le=3600)] = 600.0  # averaging of the mean wind
    averaging_status: Status = "UNKNOWN"
    criteria_status: Status = "X-CHECK"
    source: str = "docs/DOMAIN.md §2.1-2.3"


class RedTideEscalators(Frozen):
    """Oxygen escalators of the red-tide rule (docs/DOMAIN.md §3.3)."""

    do_orange_below_mgl: Annotated[float, Field(gt=0)]
    do_red_below_mgl: Annotated[float, Field(gt=0)]
    status: Status
    source: str


class RiskRules(Frozen):
    """Thresholds and anti-flap policy (config/thresholds.toml)."""

    waves_nearshore: HazardTable
    waves_offshore: HazardTable
    overtopping_lps_per_m: HazardTable
    red_tide_chla: HazardTable
    red_tide_escalators: RedTideEscalators | None = None
    wind: WindRules = WindRules()
    surge_fallback_cm: HazardTable | None = None
    blue_if_surge_cm_ge: Annotated[float, Field(gt=0)] | None = None  # NMEFC discretion; off
    hold_time_s: Annotated[float, Field(ge=0)] = 1800.0
    stale_after_intervals: Annotated[float, Field(gt=1)] = 5.0
    outlook_hours: Annotated[int, Field(gt=0, le=72)] = 24
    # How the surge at the coming high waters is forecast from the gauge (docs/WARNINGS.md,
    # docs/HINDCAST.md): "observed" (no forecast: the observed level only), "persistence" (the
    # persisted surge on every high water of the outlook) or "trend" (persistence plus the rise
    # of the last hours' residual, carried a few hours ahead).
    surge_forecast: Literal["observed", "persistence", "trend"] = "persistence"


class SpikeRules(Frozen):
    """Spike test: distance from the median of the recent neighbours (config/qc.toml)."""

    window_s: Annotated[float, Field(gt=0)]
    min_neighbours: Annotated[int, Field(ge=1, le=5)]  # of the 5 recent readings kept per series
    limit: dict[Kind, Annotated[float, Field(gt=0)]]


class FlatlineRules(Frozen):
    """Flat-line test: identical consecutive values that make a stuck sensor (config/qc.toml)."""

    default: Annotated[int, Field(ge=2)]
    count: dict[Kind, Annotated[int, Field(ge=2)]] = Field(default_factory=dict)
    # Slowest curvature of a kind's signal at a turning point (unit/s²): a value reported in steps
    # of ``resolution`` may stay on one step for 2·sqrt(2·resolution/curvature) around it.
    turning_curvature: dict[Kind, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)


class QcRules(Frozen):
    """Quality-control settings (config/qc.toml): physical ranges, spike and flat-line tests."""

    status: Status
    source: str
    range: dict[Kind, tuple[float, float]]
    spike: SpikeRules
    flatline: FlatlineRules

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = sorted(k.value for k in Kind if k not in self.range)
        if missing:
            msg = f"no physical range for {', '.join(missing)}"
            raise ValueError(msg)
        for kind, (low, high) in self.range.items():
            if not low < high:
                msg = f"range of {kind.value}: low {low} is not below high {high}"
                raise ValueError(msg)
        return self


class Catalogue(Frozen):
    """Everything the service knows about the coast, cross-checked."""

    stations: tuple[Station, ...]
    zones: tuple[Zone, ...]
    segments: tuple[DikeSegment, ...]
    shelters: tuple[Shelter, ...]
    rules: RiskRules
    qc: QcRules
    advice: Advice

    @model_validator(mode="after")
    def _references(self) -> Self:
        stations = {s.id for s in self.stations}
        zones = {z.id: z for z in self.zones}
        segments = {s.id for s in self.segments}
        problems = [
            *(
                f"zones.{z.id}.parent: unknown zone {z.parent!r}"
                for z in self.zones
                if z.parent and z.parent not in zones
            ),
            *(
                f"zones.{z.id}.stations: unknown station {s!r}"
                for z in self.zones
                for s in z.stations
                if s not in stations
            ),
            *(
                f"zones.{z.id}.segments: unknown segment {s!r}"
                for z in self.zones
                for s in z.segments
                if s not in segments
            ),
            *(
                f"segments.{d.id}: unknown station {s!r}"
                for d in self.segments
                for s in (d.tide_station, d.wave_station)
                if s not in stations
            ),
            *(
                f"shelters.{s.id}.zone: unknown zone {s.zone!r}"
                for s in self.shelters
                if s.zone not in zones
            ),
        ]
        problems += [
            f"stations.{s}: id is reserved for MQTT subtrees" for s in stations & RESERVED_IDS
        ]
        if len(stations) != len(self.stations):
            problems.append("stations: duplicate station id")
        if sum(z.tier == Tier.CITY for z in self.zones) != 1:
            problems.append("zones: exactly one zone must have tier 'city'")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def station(self, station_id: str) -> Station | None:
        """Look a station up by id."""
        return next((s for s in self.stations if s.id == station_id), None)

    @property
    def station_ids(self) -> frozenset[str]:
        """All station ids."""
        return frozenset(s.id for s in self.stations)
