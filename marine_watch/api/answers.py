"""The JSON answers of the API as pydantic models, so /openapi.json describes every one of them.

Each route names its model with ``response_model=``: FastAPI checks the answer against it and
serialises it through it, so the schema a client (or schemathesis) reads is what it gets. The
models list every field an answer has, in the order it has them; a field whose content varies by
hazard or rule (an explanation, an advice, a surge rule) is an object without a fixed set of keys.
They never add a field: an answer keeps exactly its keys (no default fills a missing one in).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: an object whose keys vary (per hazard, rule or formula); see the route's description
Open = dict[str, Any]


class Answer(BaseModel):
    """Base of the answers: fields in the order they are sent; a key the model does not list is
    passed through rather than dropped (the answer stays exactly what the route built)."""

    model_config = ConfigDict(extra="allow")


# ---- places ----------------------------------------------------------------------------------


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


# ---- stations -------------------------------------------------------------------------------


class LastReading(Answer):
    """A station's latest reading of one kind."""

    ts: float
    value: float
    qc: str


class StationAnswer(Answer):
    """A station: its configuration and its live status."""

    id: str
    name: str
    name_zh: str
    lat: float
    lon: float
    kinds: list[str]
    expected_interval_s: float
    sample: bool
    exposure: Literal["nearshore", "offshore"]
    warning_levels: Open | None = Field(description="blue..red in its datum, status, source")
    reading_datum: str | None
    gauge_to_85_m: float
    tide_constants: str | None
    cameras: list[str]
    resolution: dict[str, float]
    status: str
    reason: str | None
    last: dict[str, LastReading]
    hazards: dict[str, int]
    no_data_since: list[Open]
    surge_rule: str = Field(description="what the storm-surge colour is judged against")
    tide_datum: Open | None


class Lifted(Answer):
    """The held levels a duty officer lifted."""

    station: str
    lifted: list[str]
    by: str
    note: str
    ts: float


class ReadingPoint(Answer):
    """One stored reading (or a bucket mean)."""

    kind: str
    ts: float
    value: float
    qc: str


class Readings(Answer):
    """A station's readings, oldest first."""

    station: str
    tide_datum: Open | None
    from_: str = Field(alias="from")
    to: str
    every_s: int | None
    points: list[ReadingPoint]

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class TidePoint(Answer):
    """A predicted tide level (m, 1985 datum)."""

    ts: float
    value: float


class PredictedTide(Answer):
    """A station's predicted astronomical tide."""

    station: str
    now_s: float
    from_s: float
    to_s: float
    step_s: float
    datum: str
    gauge_to_85_m: float
    points: list[TidePoint]


# ---- alerts, audit, webhooks ----------------------------------------------------------------


class Acknowledgement(Answer):
    """An acknowledgement, as the audit trail holds it."""

    ts_s: float
    actor: str
    action: str
    subject_id: str
    identifier: str | None
    detail: str


class AlertAnswer(Answer):
    """An alert message (CAP Alert, Update or Cancel)."""

    identifier: str
    incident: str
    subject: Literal["zone", "station"]
    subject_id: str
    tier: str | None
    msg_type: Literal["Alert", "Update", "Cancel"]
    level: int
    colour: str
    sent_s: float
    references: list[str]
    headline: str
    headline_zh: str | None
    response_type: str | None
    explanation: Open | None
    acknowledgements: list[Acknowledgement] | None = Field(
        default=None, description="with=acks, and GET /alerts/{identifier}: who acknowledged it"
    )


class AlertList(Answer):
    """Alert messages, newest first."""

    count: int
    items: list[AlertAnswer]


class Ack(Answer):
    """An acknowledgement just made."""

    type: Literal["ack"]
    identifier: str
    incident: str
    by: str
    note: str
    ts: float


class AuditRow(Answer):
    """One line of the audit trail."""

    ts_s: float
    actor: str
    action: str
    subject_id: str | None
    identifier: str | None
    detail: str | None


class AuditTrail(Answer):
    """The audit trail, oldest first."""

    count: int
    items: list[AuditRow]


class ColourChange(Answer):
    """A zone's colour change."""

    ts_s: float
    level: int
    colour: str


class ZoneHistory(Answer):
    """A zone's colour changes, oldest first."""

    zone: str
    count: int
    items: list[ColourChange]


class Webhook(Answer):
    """A webhook subscription (never its secret, but once: in the answer that made it)."""

    id: str
    owner: str
    url: str
    zones: list[str]
    tiers: list[str]
    subjects: list[str]
    created_s: float


class NewWebhook(Webhook):
    """A webhook just made, with its signing secret (shown this once)."""

    secret: str


class Attempt(Answer):
    """One delivery attempt."""

    ts_s: float
    http_status: int | None
    error: str | None
    ms: float | None


class Delivery(Answer):
    """One delivery of an alert to a webhook, with its attempts."""

    id: int
    identifier: str
    status: str
    attempts: int
    last_error: str | None
    created_s: float
    delivered_s: float | None
    log: list[Attempt]


class DeliveryLog(Answer):
    """A webhook's deliveries, newest first."""

    count: int
    items: list[Delivery]


class Requeued(Answer):
    """How many failed deliveries went back in the queue."""

    requeued: int


# ---- inputs: roads, forecasts ---------------------------------------------------------------


class RoadGeometry(Answer):
    """A road note's place: a point or a line of [lon, lat]."""

    type: Literal["Point", "LineString"]
    coordinates: list[float] | list[list[float]]


class RoadNote(Answer):
    """A road note (flooded, closed, ...)."""

    id: int
    state: str
    text: str
    geometry: RoadGeometry
    author: str
    created_s: float
    expires_s: float | None


class RoadNotes(Answer):
    """The current road notes."""

    count: int
    items: list[RoadNote]


class HighWater(Answer):
    """A forecast high water."""

    ts_s: float
    level_m: float


class SurgeForecast(Answer):
    """A station's latest storm-surge forecast (high waters, 1985 datum)."""

    station: str
    issued_s: float
    source: str
    datum: str
    high_waters: list[HighWater]


class WindPoint(Answer):
    """A forecast wind at one time."""

    ts_s: float
    mean_mps: float
    gust_mps: float | None


class WindForecast(Answer):
    """A station's latest typhoon wind forecast."""

    station: str
    issued_s: float
    source: str
    typhoon: str | None
    points: list[WindPoint]


class SurgeForecastMade(SurgeForecast):
    """A storm-surge forecast just taken, and who sent it."""

    by: str


class WindForecastMade(WindForecast):
    """A wind forecast just taken, and who sent it."""

    by: str


# ---- overtopping ----------------------------------------------------------------------------


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


# ---- ops and admin --------------------------------------------------------------------------


class StoreHealth(Answer):
    """The reading store's kind and whether it answers."""

    kind: str
    reachable: bool


class Health(Answer):
    """Liveness and the state of each dependency (503 with the same body when degraded)."""

    status: Literal["ok", "degraded"]
    node_role: str
    mqtt: Literal["connected", "disconnected"]
    store: StoreHealth
    spool_pending_batches: int
    last_evaluation_s: float | None
    now_s: float


class DeadLetter(Answer):
    """A payload that could not become readings."""

    id: int
    topic: str
    received_s: float
    reason: str
    detail: str
    raw: str = Field(description="the payload (first 4096 bytes), UTF-8 with replacements")
    size: int


class DeadLetters(Answer):
    """Dead letters, newest first."""

    count: int
    items: list[DeadLetter]


class User(Answer):
    """A user and role (never a key or its hash)."""

    name: str
    role: str
    source: Literal["config", "admin"]


class NewUser(Answer):
    """A user just made; the key is shown this once."""

    name: str
    role: str
    key: str


class Reloaded(Answer):
    """What a reload re-read, and how many keys are known."""

    reloaded: list[str]
    keys: int
