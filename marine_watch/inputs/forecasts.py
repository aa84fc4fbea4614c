"""External forecasts: storm-surge high waters and typhoon wind, beside the station readings.

A surge forecast lists high waters (time, level in the station's warning-level datum, 1985 NVD) for
one tide station; a typhoon wind forecast lists times with mean wind and gust for one station that
measures wind. They arrive on MQTT ``{root}/forecast/by/{forecaster}/{station}`` (surge),
``…/wind`` (typhoon wind) and ``…/waves`` (:mod:`marine_watch.inputs.wave_forecasts`), where the broker's
ACL lets only the account ``forecaster-{forecaster}`` publish, or by ``POST /api/v1/forecasts``,
``…/wind`` and ``…/waves`` with a forecaster's key; a bad one is refused (422) or dead-lettered
with the reason. The source shown to the public is the authenticated forecaster's name from
config/mqtt_accounts.toml (or the key's name), never the payload's free text.

A forecast issued in the future (beyond ``future_tolerance_s``, the clock tolerance) or longer ago
than ``forecast_max_age_s`` is refused: it could neither expire nor be replaced. A newer forecast
replaces an older one of the same station.

Rules (docs/WARNINGS.md): a valid forecast (issued within ``forecast_max_age_s``) drives the
colour with or without the station's readings. Surge: every forecast high water within
``outlook_hours`` counts; with readings the higher of forecast and persistence sets the level
(docs/DOMAIN.md §1.3, §5.1: the upper end), without readings the forecast alone. Wind: the CMA
typhoon signal criteria with their lead times (24/24/12/6 h, docs/DOMAIN.md §2.1) on the forecast,
and the typhoon criteria on the observed wind. The explanation names the source.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from marine_watch.inputs.wave_forecasts import (
    WaveForecast,
    WaveForecastIn,
    overtopping_with_forecast,
    to_forecast,
    waves_with_forecast,
)
from marine_watch.risk.assessment import Assessment
from marine_watch.risk.outlook import at_hours, merge, wind_hours
from marine_watch.risk.surge import strongest
from marine_watch.risk.wind import TYPHOON_LABEL, wind_body
from risk_models import levels, surge, wind
from risk_models.types import UNKNOWN, Hazard
from sensors.catalogue import Catalogue
from sensors.reading import Kind

HOUR_S = 3600.0
MAX_POINTS = 500
StationId = str


class HighWaterIn(BaseModel):
    """One forecast high water."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    ts: AwareDatetime
    level_m: float = Field(ge=-10, le=20, description="m in the station's warning-level datum")


class ForecastIn(BaseModel):
    """A storm-surge forecast for one station (the wire format, v1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    station: str = Field(pattern=r"^[a-z0-9_\-]{1,64}$")
    issued: AwareDatetime
    source: str | None = Field(
        default=None,
        max_length=200,
        description="ignored: the public sees the authenticated forecaster's configured name",
    )
    high_waters: list[HighWaterIn] = Field(min_length=1, max_length=MAX_POINTS)


class WindPointIn(BaseModel):
    """Forecast wind at one time: mean wind and gust at 10 m."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    ts: AwareDatetime
    mean_mps: float = Field(ge=0, le=100)
    gust_mps: float | None = Field(default=None, ge=0, le=120)


class WindForecastIn(BaseModel):
    """A typhoon wind forecast for one station that measures wind (the wire format, v1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    station: str = Field(pattern=r"^[a-z0-9_\-]{1,64}$")
    issued: AwareDatetime
    source: str | None = Field(
        default=None,
        max_length=200,
        description="ignored: the public sees the authenticated forecaster's configured name",
    )
    typhoon: str = Field(min_length=1, max_length=100, examples=["In-Fa (2106)"])
    points: list[WindPointIn] = Field(min_length=1, max_length=MAX_POINTS)


@dataclass(frozen=True, slots=True)
class Forecast:
    """A stored surge forecast: high-water times (s, UTC epoch) and levels (m)."""

    station: str
    issued_s: float
    source: str
    times_s: np.ndarray
    levels_m: np.ndarray


@dataclass(frozen=True, slots=True)
class WindForecast:
    """A stored typhoon wind forecast: times (s), mean wind and gust (m/s; NaN: no gust)."""

    station: str
    issued_s: float
    source: str
    typhoon: str
    times_s: np.ndarray
    mean_mps: np.ndarray
    gust_mps: np.ndarray


def _epoch(value: datetime) -> float:
    return value.timestamp()


class ForecastBook:
    """The latest forecasts per station and the rules that combine them with the readings."""

    def __init__(
        self,
        catalogue: Catalogue,
        max_age_s: float,
        *,
        tolerance_s: float = 300.0,
        now_s: Callable[[], float] = time.time,
    ) -> None:
        self._catalogue = catalogue
        self._max_age_s = max_age_s
        self._tolerance_s = tolerance_s
        self._now_s = now_s
        self.latest: dict[StationId, Forecast] = {}
        self.wind: dict[StationId, WindForecast] = {}
        self.waves: dict[StationId, WaveForecast] = {}

    def _check_issued(self, issued: datetime) -> None:
        """ValueError for a forecast issued in the future or too long ago (service clock)."""
        now, issued_s = self._now_s(), _epoch(issued)
        if issued_s > now + self._tolerance_s:
            msg = (
                f"issued {issued.isoformat()} is in the future (more than the clock tolerance of "
                f"{self._tolerance_s:g} s ahead of the service's clock)"
            )
            raise ValueError(msg)
        if now - issued_s > self._max_age_s:
            msg = f"issued {issued.isoformat()} is older than the maximum age of {self._max_age_s:g} s"
            raise ValueError(msg)

    def put(self, incoming: ForecastIn, source: str) -> Forecast:
        """Keep a surge forecast from ``source`` (the authenticated forecaster's public name).

        ValueError when the station has no warning levels or ``issued`` is not believable.
        """
        station = self._catalogue.station(incoming.station)
        if station is None or station.warning_levels is None:
            msg = f"unknown tide station {incoming.station!r}"
            raise ValueError(msg)
        self._check_issued(incoming.issued)
        times = np.array([_epoch(h.ts) for h in incoming.high_waters], dtype=np.float64)
        heights = np.array([h.level_m for h in incoming.high_waters], dtype=np.float64)
        forecast = Forecast(station.id, _epoch(incoming.issued), source, times, heights)
        current = self.latest.get(station.id)
        if current is None or forecast.issued_s >= current.issued_s:
            self.latest[station.id] = forecast
        return forecast

    def put_wind(self, incoming: WindForecastIn, source: str) -> WindForecast:
        """Keep a typhoon wind forecast from ``source``, as :meth:`put` (ValueError when the
        station does not measure wind or ``issued`` is not believable)."""
        station = self._catalogue.station(incoming.station)
        if station is None or Kind.WIND_SPEED not in station.kinds:
            msg = f"unknown wind station {incoming.station!r}"
            raise ValueError(msg)
        self._check_issued(incoming.issued)
        points = incoming.points
        forecast = WindForecast(
            station.id,
            _epoch(incoming.issued),
            source,
            incoming.typhoon,
            np.array([_epoch(p.ts) for p in points], dtype=np.float64),
            np.array([p.mean_mps for p in points], dtype=np.float64),
            np.array([math.nan if p.gust_mps is None else p.gust_mps for p in points]),
        )
        current = self.wind.get(station.id)
        if current is None or forecast.issued_s >= current.issued_s:
            self.wind[station.id] = forecast
        return forecast

    def put_waves(self, incoming: WaveForecastIn, source: str) -> WaveForecast:
        """Keep a wave forecast from ``source``, as :meth:`put` (ValueError when the station does
        not measure waves or ``issued`` is not believable)."""
        self._check_issued(incoming.issued)
        forecast = to_forecast(self._catalogue, incoming, source)
        current = self.waves.get(forecast.station)
        if current is None or forecast.issued_s >= current.issued_s:
            self.waves[forecast.station] = forecast
        return forecast

    def adjust(self, assessments: list[Assessment], now_s: float) -> list[Assessment]:
        """Pipeline hook: forecasts drive surge, wind, waves and overtopping assessments."""
        if not self.latest and not self.wind and not self.waves:
            return assessments
        return [self._one(a, now_s) for a in assessments]

    def _fresh(self, issued_s: float, now_s: float) -> bool:
        return now_s - issued_s <= self._max_age_s

    def _one(self, a: Assessment, now_s: float) -> Assessment:
        if a.hazard == Hazard.STORM_SURGE:
            forecast = self.latest.get(a.place)
            if forecast is not None and self._fresh(forecast.issued_s, now_s):
                return self._surge(a, forecast, now_s)
        if a.hazard == Hazard.WIND:
            fc = self.wind.get(a.place)
            if fc is not None and self._fresh(fc.issued_s, now_s):
                return self._wind(a, fc, now_s)
        if a.hazard in (Hazard.WAVES, Hazard.OVERTOPPING):
            return self._waves(a, now_s)
        return a

    def _waves(self, a: Assessment, now_s: float) -> Assessment:
        if a.hazard == Hazard.WAVES:
            waves_fc = self.waves.get(a.place)
            if waves_fc is not None and self._fresh(waves_fc.issued_s, now_s):
                return waves_with_forecast(a, waves_fc, self._catalogue, now_s)
            return a
        seg = next((s for s in self._catalogue.segments if s.id == a.place), None)
        waves_fc = self.waves.get(seg.wave_station) if seg else None
        if waves_fc is not None and self._fresh(waves_fc.issued_s, now_s):
            return overtopping_with_forecast(a, waves_fc, self._catalogue, now_s)
        return a

    def _surge(self, a: Assessment, forecast: Forecast, now_s: float) -> Assessment:
        end = now_s + self._catalogue.rules.outlook_hours * HOUR_S
        inside = (forecast.times_s >= now_s) & (forecast.times_s <= end)
        station = self._catalogue.station(a.place)
        if not inside.any() or station is None or station.warning_levels is None:
            return a
        wl = station.warning_levels
        best = strongest(forecast.times_s[inside], forecast.levels_m[inside], wl.thresholds())
        assert best is not None
        peak_t, peak_m, onset, level = best
        hours = self._catalogue.rules.outlook_hours
        per_hw = surge.surge_level(forecast.levels_m[inside], wl.thresholds())
        ahead = merge(a.outlook, at_hours(forecast.times_s[inside], per_hw, now_s, hours))
        note: dict[str, object] = {
            "forecast_m": round(peak_m, 3),
            "forecast_issued_s": forecast.issued_s,
        }
        persistence = a.explanation.get("value")
        if a.level != UNKNOWN and isinstance(persistence, int | float) and persistence >= peak_m:
            source = f"persistence (not lower than {forecast.source})"
            return Assessment(
                a.place,
                a.hazard,
                a.level,
                {**a.explanation, **note, "forecast_source": source},
                a.reason,
                ahead,
                a.data_s,
            )
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
        body: dict[str, object] = {
            **(a.explanation if a.level != UNKNOWN else {}),
            **exp.to_dict(),
            **note,
            "onset_s": onset,
            "persistence_m": persistence if a.level != UNKNOWN else None,
            "forecast_method": "external",
            "forecast_source": forecast.source,
        }
        if a.level == UNKNOWN:  # the gauge has no data: the forecast alone drives the colour
            body["gauge"] = {"status": "no data", "reason": a.reason}
            return Assessment(a.place, a.hazard, level, body, a.reason, ahead, None)
        return Assessment(a.place, a.hazard, max(level, a.level), body, a.reason, ahead, a.data_s)

    def _wind(self, a: Assessment, fc: WindForecast, now_s: float) -> Assessment:
        rules = self._catalogue.rules
        per_point = wind.signal_level_ahead(
            fc.times_s - now_s, fc.mean_mps, fc.gust_mps, wind.TYPHOON_SIGNAL
        )
        forecast_level = int(per_point.max())
        mean_v, gust_v, observed = math.nan, math.nan, None
        if a.level != UNKNOWN:
            mean_v = float(a.explanation.get("value") or math.nan)  # type: ignore[arg-type]
            gust_v = float(a.explanation.get("gust") or math.nan)  # type: ignore[arg-type]
            observed = int(wind.typhoon_signal_level(np.array([mean_v]), np.array([gust_v]))[0])
        level = max(forecast_level, observed if observed is not None else 0)
        body = wind_body(a.place, mean_v, gust_v, level, rules, criteria=TYPHOON_LABEL)
        onset = None
        if forecast_level > 0:
            onset = float(fc.times_s[int(np.flatnonzero(per_point == forecast_level)[0])])
        ahead = forecast_level > (observed if observed is not None else -1)
        when = onset if ahead else a.data_s  # ahead: Expected at the onset; else observed now
        body.update(
            typhoon=fc.typhoon,
            forecast_source=fc.source,
            forecast_issued_s=fc.issued_s,
            forecast_level=forecast_level,
            observed_level=observed,
            peak_time_s=when,
            onset_s=when if level > 0 else None,
            source=f"{rules.wind.source}; typhoon signal lead times 24/24/12/6 h (docs/DOMAIN.md §2.1)",
        )
        if a.level == UNKNOWN:
            body["observations"] = {"status": "no data", "reason": a.reason}
        hours = rules.outlook_hours
        hourly = wind_hours(fc.times_s, fc.mean_mps, fc.gust_mps, now_s, hours)
        return Assessment(a.place, a.hazard, level, body, a.reason, hourly, a.data_s)


def forecast_dict(f: Forecast) -> dict[str, object]:
    """A surge forecast as the API sends it (high waters in metres above NVD1985)."""
    return {
        "station": f.station,
        "issued_s": f.issued_s,
        "source": f.source,
        "datum": "NVD1985",
        "high_waters": [
            {"ts_s": float(t), "level_m": float(v)}
            for t, v in zip(f.times_s, f.levels_m, strict=True)
        ],
    }


def wind_forecast_dict(f: WindForecast) -> dict[str, object]:
    """A wind forecast as the API sends it (gust None where not forecast)."""
    return {
        "station": f.station,
        "issued_s": f.issued_s,
        "source": f.source,
        "typhoon": f.typhoon,
        "points": [
            {
                "ts_s": float(t),
                "mean_mps": float(m),
                "gust_mps": None if math.isnan(g) else float(g),
            }
            for t, m, g in zip(f.times_s, f.mean_mps, f.gust_mps, strict=True)
        ],
    }
