"""Answers about stations: the station, its readings, its predicted tide, a lift."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from marine_watch.api.answers.base import Answer, Open


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
