"""Answers about places: zones, dike segments, the resident's colour, the overtopping calculator."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from marine_watch.api.answers.base import Answer, Open


class Contact(Answer):
    """Who to call in a zone (SAMPLE values on the sample coast)."""

    name: str
    phone: str
    role: str


class Freshness(Answer):
    """How old the colours of an answer are. An API node (MARINE_WATCH_NODE_ROLE=api) counts from
    its risk node's last heartbeat and answers "no data" (level -1) past ``max_age_s``."""

    colours_age_s: float | None = Field(description="seconds since the evaluation behind them")
    max_age_s: float | None = Field(description="the limit of an API node; null on other nodes")
    stale: bool
    stale_regions: list[str] = Field(
        description="regions shown as no data: their risk node is silent"
    )


class ZoneProperties(Answer):
    """A zone's identity and its current colour."""

    id: str
    region: str = Field(description="evaluated by the risk node of this region")
    name: str
    name_zh: str
    tier: Literal["city", "town", "village"]
    parent: str | None
    geocode: str | None
    sample: bool
    contact: Contact | None
    level: int = Field(ge=-1, le=4, description="-1 unknown, 0 none, 1 blue ... 4 red")
    colour: Literal["unknown", "none", "blue", "yellow", "orange", "red"]
    explanation: Open | None = Field(description="what drives the colour (hazard, station, value…)")
    no_data: list[str]
    no_data_since: list[Open]
    since_s: float | None


class Polygon(Answer):
    """GeoJSON polygon: rings of [lon, lat]."""

    type: Literal["Polygon"]
    coordinates: list[list[list[float]]]


class ZoneFeature(Answer):
    """A zone as a GeoJSON Feature."""

    type: Literal["Feature"]
    id: str
    properties: ZoneProperties
    geometry: Polygon


class ZoneAnswer(ZoneFeature):
    """One zone (GET /zones/{zone_id}): its Feature and the age of its colour."""

    freshness: Freshness


class ZoneCollection(Answer):
    """Zones as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[ZoneFeature]
    freshness: Freshness


class SegmentProperties(Answer):
    """A dike segment and its overtopping colour."""

    id: str
    name: str
    name_zh: str
    use: str
    crest_level_m: float
    structure: str
    status: str
    level: int = Field(ge=-1, le=4)
    colour: Literal["unknown", "none", "blue", "yellow", "orange", "red"]
    explanation: Open | None
    no_data: list[str]
    no_data_since: list[Open]
    since_s: float | None


class LineString(Answer):
    """GeoJSON line: [lon, lat] points."""

    type: Literal["LineString"]
    coordinates: list[list[float]]


class SegmentFeature(Answer):
    """A dike segment as a GeoJSON Feature."""

    type: Literal["Feature"]
    id: str
    properties: SegmentProperties
    geometry: LineString


class SegmentCollection(Answer):
    """Dike segments as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[SegmentFeature]
    freshness: Freshness


class ZoneRef(Answer):
    """A zone named in an answer."""

    id: str
    name: str
    name_zh: str


class ChainLink(Answer):
    """One zone of the village → town → city chain, with its level."""

    id: str
    name: str
    name_zh: str
    tier: str
    level: int
    colour: str


class OutlookHour(Answer):
    """One hour of the outlook: the highest level of the hazards that can be forecast; the first
    slot is the colour shown now (docs/WARNINGS.md, the outlook)."""

    hour: int
    ts: float
    level: int
    colour: str
    hazard: str | None = Field(description="the hazard that sets this hour (the card's, in slot 0)")
    now: bool = Field(description="true in slot 0 only: the colour shown now")
    forecast_level: int = Field(description="what the forecasts alone give for this hour")


class OutlookGap(Answer):
    """A hazard of the place that the outlook does not forecast, and why."""

    hazard: str
    reason: str


class ShelterNear(Answer):
    """A shelter near the position asked about."""

    id: str
    name: str
    name_zh: str
    lat: float
    lon: float
    capacity: int
    address: str
    distance_m: float
    bearing_deg: float


class RiskAnswer(Answer):
    """The colour where you stand (GET /api/v1/risk)."""

    level: int = Field(ge=-1, le=4)
    colour: str
    explanation: Open | None
    no_data: list[str]
    no_data_since: list[Open]
    since_s: float | None
    advice: Open | None = Field(description="what to do: en and zh lines, hazard, CAP responseType")
    zone: ZoneRef
    chain: list[ChainLink]
    outlook: list[OutlookHour]
    outlook_covers: list[str] = Field(description="the hazards the outlook forecasts")
    outlook_not_covered: list[OutlookGap]
    evaluated_s: float | None
    shelters: list[ShelterNear]
    roads: list[Open]
    freshness: Freshness
    contact: Contact | None
    sample: bool


class Overtopping(Answer):
    """A dike segment's mean overtopping discharge (EurOtop 2018) and the colour it gives.

    The formula's own fields (freeboard, Hm0, Tm-1,0, the formula's number, validity, and
    ``overflow`` when the crest is under water) follow the listed ones; ``inputs`` are the
    conditions used, given or live."""

    hazard: Literal["overtopping"]
    station: str = Field(description="the dike segment")
    value: float | None = Field(description="l/s/m; null when the crest overflows")
    unit: str
    level: int = Field(ge=-1, le=4)
    colour: str
    threshold: float | None
    next_threshold: float | None
    margin: float | None
    peak_time_s: float | None
    datum: str | None
    source: str
    status: str
    inputs: dict[str, float]
    segment_status: str
