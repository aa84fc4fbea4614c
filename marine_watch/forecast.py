"""External storm-surge forecasts (e.g. the provincial forecast office) beside persistence.

A forecast lists high waters (time, level in the station's datum, 1985 NVD) for one station. It
arrives on MQTT ``{root}/forecast/{station}`` (a small subscriber with its own client) or by
``POST /api/v1/forecasts`` from a forecaster. The surge colour then uses the higher of the forecast
high water within the next tidal cycle and the persistence forecast (DOMAIN.md §1.3: use the upper
end), and the explanation names which one drove it.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import aiomqtt
import numpy as np
import structlog
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from marine_watch.deadletters import DeadLetter, DeadLetters
from marine_watch.hazards import Assessment
from marine_watch.ingest import Backoff, side_client
from marine_watch.settings import Settings
from risk_models import levels, surge
from risk_models.types import Hazard
from sensors.catalogue import Catalogue

log = structlog.get_logger(__name__)
CYCLE_S = 13 * 3600.0  # the next tidal cycle, as in hazards._forecast
MAX_POINTS = 500


class HighWaterIn(BaseModel):
    """One forecast high water."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    ts: AwareDatetime
    level_m: float = Field(ge=-10, le=20, description="m in the station's warning-level datum")


class ForecastIn(BaseModel):
    """A forecast for one station (the wire format, v1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    station: str = Field(pattern=r"^[a-z0-9_\-]{1,64}$")
    issued: AwareDatetime
    source: str = Field(min_length=1, max_length=200, examples=["Zhejiang Marine Forecast Office"])
    high_waters: list[HighWaterIn] = Field(min_length=1, max_length=MAX_POINTS)


@dataclass(frozen=True, slots=True)
class Forecast:
    """A stored forecast: high-water times (s, UTC epoch) and levels (m)."""

    station: str
    issued_s: float
    source: str
    times_s: np.ndarray
    levels_m: np.ndarray

    def peak_between(self, start_s: float, end_s: float) -> tuple[float, float] | None:
        """(time, level) of the highest forecast high water in [start, end]."""
        inside = (self.times_s >= start_s) & (self.times_s <= end_s)
        if not inside.any():
            return None
        i = int(np.argmax(np.where(inside, self.levels_m, -np.inf)))
        return float(self.times_s[i]), float(self.levels_m[i])


def _epoch(value: datetime) -> float:
    return value.timestamp()


class ForecastBook:
    """The latest forecast per station and the rule that combines it with persistence."""

    def __init__(self, catalogue: Catalogue, max_age_s: float) -> None:
        self._catalogue = catalogue
        self._max_age_s = max_age_s
        self.latest: dict[str, Forecast] = {}

    def put(self, incoming: ForecastIn) -> Forecast:
        """Keep a forecast (ValueError when the station has no warning levels)."""
        station = self._catalogue.station(incoming.station)
        if station is None or station.warning_levels is None:
            msg = f"unknown tide station {incoming.station!r}"
            raise ValueError(msg)
        times = np.array([_epoch(h.ts) for h in incoming.high_waters], dtype=np.float64)
        heights = np.array([h.level_m for h in incoming.high_waters], dtype=np.float64)
        forecast = Forecast(station.id, _epoch(incoming.issued), incoming.source, times, heights)
        current = self.latest.get(station.id)
        if current is None or forecast.issued_s >= current.issued_s:
            self.latest[station.id] = forecast
        return forecast

    def adjust(self, assessments: list[Assessment], now_s: float) -> list[Assessment]:
        """Pipeline hook: the higher of forecast and persistence drives each surge assessment."""
        if not self.latest:
            return assessments
        return [self._one(a, now_s) for a in assessments]

    def _one(self, a: Assessment, now_s: float) -> Assessment:
        forecast = self.latest.get(a.place)
        if a.hazard != Hazard.STORM_SURGE or a.level < 0 or forecast is None:
            return a
        if now_s - forecast.issued_s > self._max_age_s:
            return a
        peak = forecast.peak_between(now_s, now_s + CYCLE_S)
        if peak is None:
            return a
        peak_t, peak_m = peak
        persistence = a.explanation.get("value")
        persisted = float(persistence) if isinstance(persistence, int | float) else -math.inf
        station = self._catalogue.station(a.place)
        assert station is not None
        assert station.warning_levels is not None
        wl = station.warning_levels
        note = {"forecast_m": round(peak_m, 3), "forecast_issued_s": forecast.issued_s}
        if persisted >= peak_m:
            source = f"persistence (not lower than {forecast.source})"
            return replace(a, explanation={**a.explanation, **note, "forecast_source": source})
        exp = levels.explain(
            Hazard.STORM_SURGE,
            a.place,
            peak_m,
            "m",
            wl.thresholds(),
            peak_time_s=peak_t,
            datum=wl.datum,
            source=wl.source,
            status=wl.status,
        )
        level = int(surge.surge_level(np.array([peak_m]), wl.thresholds())[0])
        explanation = {
            **a.explanation,
            **exp.to_dict(),
            **note,
            "persistence_m": None if math.isinf(persisted) else persisted,
            "forecast_method": "external",
            "forecast_source": forecast.source,
        }
        return replace(a, level=max(level, a.level), explanation=explanation)


async def subscribe_forecasts(
    settings: Settings,
    book: ForecastBook,
    dead_letters: DeadLetters,
    on_new: Callable[[], None],
) -> None:
    """Worker: take forecasts from ``{root}/forecast/+`` with its own client; bad ones dead-lettered."""
    root = settings.mqtt_topic_root.rstrip("/")
    backoff = Backoff()
    while True:
        try:
            async with side_client(settings, "forecast") as client:
                await client.subscribe(f"{root}/forecast/+", qos=1)
                backoff.reset()
                async for message in client.messages:
                    await _take(message, root, book, dead_letters, on_new)
        except aiomqtt.MqttError as exc:
            await backoff.wait("forecast_mqtt_disconnected", exc)


async def _take(
    message: aiomqtt.Message,
    root: str,
    book: ForecastBook,
    dead_letters: DeadLetters,
    on_new: Callable[[], None],
) -> None:
    topic = message.topic.value
    raw = bytes(message.payload)
    station = topic.removeprefix(f"{root}/forecast/")
    try:
        incoming = ForecastIn.model_validate_json(raw)
        if incoming.station != station:
            msg = f"payload station {incoming.station!r} does not match the topic"
            raise ValueError(msg)
        book.put(incoming)
    except (ValidationError, ValueError) as exc:
        detail = str(exc).splitlines()[0]
        await dead_letters.add(
            [DeadLetter(topic, time.time(), "bad_forecast", detail, raw, len(raw))]
        )
        log.warning("forecast_dead_lettered", topic=topic, detail=detail)
        return
    log.info(
        "forecast_received", station=station, source=incoming.source, n=len(incoming.high_waters)
    )
    on_new()


def forecast_dict(f: Forecast) -> dict[str, object]:
    return {
        "station": f.station,
        "issued_s": f.issued_s,
        "source": f.source,
        "high_waters": [
            {"ts_s": float(t), "level_m": float(v)}
            for t, v in zip(f.times_s, f.levels_m, strict=True)
        ],
    }
