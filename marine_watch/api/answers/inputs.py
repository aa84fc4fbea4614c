"""Answers about inputs: road notes and external forecasts."""

from __future__ import annotations

from typing import Literal

from marine_watch.api.answers.base import Answer


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
