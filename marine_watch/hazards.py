"""Assess every hazard of every station and dike segment from the live coast state.

Pure with respect to I/O (state in, assessments out); runs in the numerics executor. A station that
is stale or silent never drives a colour: its assessments are UNKNOWN with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from marine_watch.dikes import OutsideValidity, assess_segment
from marine_watch.state import CoastState
from risk_models import levels, surge, tide, waves, wind
from risk_models.types import UNKNOWN, Hazard
from sensors.catalogue import Catalogue, DikeSegment, Station
from sensors.reading import Kind

OUTLOOK_STEP_S = 600.0
RESIDUAL_WINDOW_S = 3600.0  # persistence: mean residual of the last hour
HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class Assessment:
    """One hazard at one place (station or dike segment)."""

    place: str
    hazard: Hazard
    level: int  # UNKNOWN (-1) or 0..4
    explanation: Mapping[str, object]
    reason: str | None = None  # why UNKNOWN
    outlook: tuple[int, ...] = ()  # hourly levels ahead (storm surge)


@dataclass
class SurgeView:
    """What the surge assessment learnt, reused for overtopping."""

    water_m: float
    peak_time_s: float | None


@dataclass
class Assessor:
    """Evaluates all hazards at ``now_s``."""

    catalogue: Catalogue
    constants: Mapping[str, tide.TideConstants] = field(default_factory=dict)

    def station_status(
        self, state: CoastState, station: Station, now_s: float
    ) -> tuple[str, str | None]:
        """'ok', 'stale' or 'no_data', with the reason when not ok."""
        seen = state.last_seen_s.get(station.id)
        if seen is None:
            return "no_data", "no reading received yet"
        limit = self.catalogue.rules.stale_after_intervals * station.expected_interval_s
        age = now_s - seen
        if age > limit:
            return (
                "stale",
                f"no reading for {age / 60:.0f} min (expected every {station.expected_interval_s / 60:.0f} min)",
            )
        return "ok", None

    def assess(self, state: CoastState, now_s: float) -> list[Assessment]:
        out: list[Assessment] = []
        views: dict[str, SurgeView] = {}
        for station in self.catalogue.stations:
            status, reason = self.station_status(state, station, now_s)
            for hazard in _hazards_of(station):
                if status != "ok":
                    out.append(_unknown(station.id, hazard, reason or status))
                    continue
                assessment, view = self._assess_station(state, station, hazard, now_s)
                out.append(assessment)
                if view is not None:
                    views[station.id] = view
        for segment in self.catalogue.segments:
            out.append(self._overtopping(state, segment, views, now_s))
        return out

    def _assess_station(
        self, state: CoastState, station: Station, hazard: Hazard, now_s: float
    ) -> tuple[Assessment, SurgeView | None]:
        if hazard == Hazard.STORM_SURGE:
            return self._surge(state, station, now_s)
        if hazard == Hazard.WAVES:
            return self._waves(state, station, now_s), None
        if hazard == Hazard.WIND:
            return self._wind(state, station, now_s), None
        return self._red_tide(state, station, now_s), None

    def _max_age(self, station: Station) -> float:
        return self.catalogue.rules.stale_after_intervals * station.expected_interval_s

    def _surge(
        self, state: CoastState, station: Station, now_s: float
    ) -> tuple[Assessment, SurgeView | None]:
        wl = station.warning_levels
        assert wl is not None
        latest = state.latest(
            station.id, Kind.TIDE_LEVEL, now_s=now_s, max_age_s=self._max_age(station)
        )
        if latest is None:
            return _unknown(station.id, Hazard.STORM_SURGE, "no valid tide reading"), None
        thresholds = wl.thresholds()
        obs_t, obs_v = latest
        obs_v -= station.gauge_to_85_m
        peak_m: float = obs_v
        peak_t: float | None = obs_t
        outlook: tuple[int, ...] = ()
        extra: dict[str, object] = {"observed_m": round(obs_v, 3)}
        constants = self.constants.get(station.id)
        if constants is not None:
            fc = _forecast(state, station, constants, now_s, self.catalogue.rules.outlook_hours)
            extra.update(fc.extra)
            outlook = tuple(int(x) for x in surge.surge_level(fc.hourly_max, thresholds))
            if not math.isnan(fc.next_hw_m) and fc.next_hw_m > peak_m:
                peak_m, peak_t = fc.next_hw_m, fc.next_hw_t
        exp = levels.explain(
            Hazard.STORM_SURGE,
            station.id,
            peak_m,
            "m",
            thresholds,
            peak_time_s=peak_t,
            datum=wl.datum,
            source=wl.source,
            status=wl.status,
        )
        level = int(surge.surge_level(np.array([peak_m]), thresholds)[0])
        return (
            Assessment(
                station.id, Hazard.STORM_SURGE, level, {**exp.to_dict(), **extra}, outlook=outlook
            ),
            SurgeView(peak_m, peak_t),
        )

    def _waves(self, state: CoastState, station: Station, now_s: float) -> Assessment:
        t, hs = state.window(station.id, Kind.WAVE_HEIGHT, now_s - HOUR_S, now_s + 1)
        if hs.size == 0:
            return _unknown(station.id, Hazard.WAVES, "no valid wave reading in the last hour")
        table = (
            self.catalogue.rules.waves_offshore
            if station.exposure == "offshore"
            else self.catalogue.rules.waves_nearshore
        )
        value = float(hs[-1])
        level = int(
            waves.wave_level(np.array([value]), station.exposure, thresholds=table.thresholds())[0]
        )
        exp = levels.explain(
            Hazard.WAVES,
            station.id,
            value,
            "m",
            table.thresholds(),
            peak_time_s=float(t[-1]),
            source=table.source,
            status=table.status,
        )
        return Assessment(
            station.id, Hazard.WAVES, level, {**exp.to_dict(), "exposure": station.exposure}
        )

    def _wind(self, state: CoastState, station: Station, now_s: float) -> Assessment:
        _, mean = state.window(station.id, Kind.WIND_SPEED, now_s - 600, now_s + 1)
        _, gust = state.window(station.id, Kind.WIND_GUST, now_s - 600, now_s + 1)
        if mean.size == 0:
            return _unknown(station.id, Hazard.WIND, "no valid wind reading in the last 10 min")
        mean_v = float(mean[-1])
        gust_v = float(gust.max()) if gust.size else float("nan")
        level = int(wind.gale_signal_level(np.array([mean_v]), np.array([gust_v]))[0])
        force = int(wind.beaufort(np.array([mean_v]))[0])
        exp = {
            "hazard": Hazard.WIND.value,
            "station": station.id,
            "value": mean_v,
            "unit": "m/s",
            "gust": None if math.isnan(gust_v) else gust_v,
            "beaufort": force,
            "level": level,
            "colour": levels.COLOUR_OF_CODE[level + 1],
            "source": "docs/DOMAIN.md §2.2 CMA gale signal",
            "status": "X-CHECK",
        }
        return Assessment(station.id, Hazard.WIND, level, exp)

    def _red_tide(self, state: CoastState, station: Station, now_s: float) -> Assessment:
        table = self.catalogue.rules.red_tide_chla
        _, chla = state.window(station.id, Kind.CHLOROPHYLL_A, now_s - HOUR_S, now_s + 1)
        if chla.size == 0:
            return _unknown(
                station.id, Hazard.RED_TIDE, "no valid chlorophyll-a reading in the last hour"
            )
        value = float(chla.mean())  # 1-h mean (DOMAIN.md §3.3)
        level = int(levels.classify(np.array([value]), table.thresholds())[0])
        exp = levels.explain(
            Hazard.RED_TIDE,
            station.id,
            value,
            "ug/L",
            table.thresholds(),
            source=table.source,
            status=table.status,
        )
        return Assessment(station.id, Hazard.RED_TIDE, level, exp.to_dict())

    def _overtopping(
        self, state: CoastState, seg: DikeSegment, views: Mapping[str, SurgeView], now_s: float
    ) -> Assessment:
        view = views.get(seg.tide_station)
        wave_station = self.catalogue.station(seg.wave_station)
        if view is None or wave_station is None:
            return _unknown(
                seg.id, Hazard.OVERTOPPING, f"no valid water level from {seg.tide_station}"
            )
        max_age = self._max_age(wave_station)
        hs = state.latest(seg.wave_station, Kind.WAVE_HEIGHT, now_s=now_s, max_age_s=max_age)
        tp = state.latest(seg.wave_station, Kind.WAVE_PERIOD, now_s=now_s, max_age_s=max_age)
        if hs is None or tp is None:
            return _unknown(seg.id, Hazard.OVERTOPPING, f"no valid waves from {seg.wave_station}")
        table = self.catalogue.rules.overtopping_lps_per_m
        try:
            level, body = assess_segment(
                seg,
                table,
                water_m=view.water_m,
                hm0_m=hs[1],
                tp_s=tp[1],
                peak_time_s=view.peak_time_s,
            )
        except OutsideValidity as exc:
            return _unknown(seg.id, Hazard.OVERTOPPING, f"outside EurOtop 2018 validity: {exc}")
        return Assessment(seg.id, Hazard.OVERTOPPING, level, body)


@dataclass
class _Forecast:
    next_hw_m: float
    next_hw_t: float | None
    hourly_max: np.ndarray
    extra: dict[str, object]


def _forecast(
    state: CoastState, station: Station, constants: tide.TideConstants, now_s: float, hours: int
) -> _Forecast:
    """Forecast water = predicted tide + persisted residual of the last hour (DOMAIN.md §1.3)."""
    t, v = state.window(station.id, Kind.TIDE_LEVEL, now_s - RESIDUAL_WINDOW_S, now_s + 1)
    v = v - station.gauge_to_85_m
    residual = float(np.mean(v - tide.predict(constants, t))) if t.size else 0.0
    grid = now_s + np.arange(0.0, hours * HOUR_S + OUTLOOK_STEP_S, OUTLOOK_STEP_S)
    predicted = tide.predict(constants, grid)  # grid[0] is now
    water = predicted + residual
    hw = tide.high_low_waters(grid, water)
    highs = hw.times_s[hw.is_high]
    heights = hw.heights_m[hw.is_high]
    upcoming = highs <= now_s + 13 * HOUR_S  # the next tidal cycle
    if upcoming.any():
        i = int(np.argmax(np.where(upcoming, heights, -np.inf)))
        next_hw_m, next_hw_t = float(heights[i]), float(highs[i])
    else:
        next_hw_m, next_hw_t = float("nan"), None
    per_hour = int(HOUR_S / OUTLOOK_STEP_S)
    hourly = water[: hours * per_hour].reshape(hours, per_hour).max(axis=1)
    extra = {
        "residual_m": round(residual, 3),
        "predicted_now_m": round(float(predicted[0]), 3),
        "forecast_method": "persistence",
    }
    return _Forecast(next_hw_m, next_hw_t, hourly, extra)


def _hazards_of(station: Station) -> list[Hazard]:
    kinds = set(station.kinds)
    out = []
    if Kind.TIDE_LEVEL in kinds and station.warning_levels is not None:
        out.append(Hazard.STORM_SURGE)
    if Kind.WAVE_HEIGHT in kinds:
        out.append(Hazard.WAVES)
    if Kind.WIND_SPEED in kinds:
        out.append(Hazard.WIND)
    if Kind.CHLOROPHYLL_A in kinds:
        out.append(Hazard.RED_TIDE)
    return out


def _unknown(place: str, hazard: Hazard, reason: str) -> Assessment:
    return Assessment(
        place,
        hazard,
        UNKNOWN,
        {
            "hazard": hazard.value,
            "station": place,
            "level": UNKNOWN,
            "colour": "unknown",
            "reason": reason,
        },
        reason=reason,
    )
