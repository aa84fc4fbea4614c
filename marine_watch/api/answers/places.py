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


class ZoneProperties(Answer):
    """A zone's identity and its current colour."""

    id: str
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


class ZoneCollection(Answer):
    """Zones as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[ZoneFeature]


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
    """The storm-surge level expected in one hour of the next 24."""

    hour: int
    ts: float
    level: int


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
    evaluated_s: float | None
    shelters: list[ShelterNear]
    roads: list[Open]
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
