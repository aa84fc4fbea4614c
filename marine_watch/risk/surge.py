"""Storm-surge assessment of one tide station: forecast high waters over the outlook (24 h).

Forecast high water = predicted astronomical high water + persisted surge (docs/DOMAIN.md §1.3,
§5.1). The persisted surge is the higher of the skew surge of the last tidal cycle (robust to tide
phase errors: max observed minus max predicted, whatever their timing) and the mean residual of the
last hour (follows a rising storm at once), and never below 0: a negative residual or a set-down
(减水) never hides a high water. Every high water within ``outlook_hours`` counts; the colour is
the highest level reached, its onset the time of the first high water reaching it.

Readings arrive in the station's own datum and are converted once here: z_85 = z - gauge_to_85_m
(docs/DOMAIN.md §1.4). A station without warning tide levels is graded on its surge alone by the
SAMPLE fallback table (``rules.surge_fallback_cm``, docs/DOMAIN.md §1.3), when configured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marine_watch.risk.assessment import Assessment, SurgeView, unknown
from marine_watch.risk.state import CoastState
from risk_models import levels, surge, tide
from risk_models.types import Hazard
from sensors.catalogue import RiskRules, Station
from sensors.reading import Kind

HOUR_S = 3600.0
OUTLOOK_STEP_S = 600.0
RESIDUAL_WINDOW_S = HOUR_S  # the last-hour residual
CYCLE_S = 12.4206 * HOUR_S  # M2 period: one tidal cycle
SKEW_LOOKBACK_S = CYCLE_S + 2 * HOUR_S  # the last high water and its neighbourhood
PHASE_MARGIN_S = HOUR_S  # a predicted high water is "past" an hour after (tide phase errors)
SKEW_HALF_WINDOW_S = 2 * HOUR_S  # its skew surge: observations within ±2 h of it
# "trend" (docs/HINDCAST.md §3): the rise of the tidal-cycle mean residual over the last
# TREND_LAG_S, carried TREND_HORIZON_S ahead (then held), at most TREND_MAX_M in all.
TREND_LAG_S = 3 * HOUR_S
TREND_HORIZON_S = 12 * HOUR_S
TREND_MAX_M = 0.5
TREND_MIN_POINTS = 3
TREND_MAX_GAP_S = 3 * HOUR_S
PERSISTENCE_RULE = "max(skew surge of the last tidal cycle, last-hour residual, 0)"


@dataclass(frozen=True, slots=True)
class Persistence:
    """What persistence forecasts: high waters (time, m in 1985 datum) and hourly maxima."""

    hw_times_s: np.ndarray
    hw_m: np.ndarray
    hourly_max_m: np.ndarray
    surge_m: float
    extra: dict[str, object]


def to_85(station: Station, values: np.ndarray) -> np.ndarray:
    """Readings in the station's datum → 1985 datum (docs/DOMAIN.md §1.4)."""
    out: np.ndarray = values - station.gauge_to_85_m
    return out


def persistence(  # noqa: PLR0917 - tests/marine_watch/risk/test_surge.py calls it positionally
    state: CoastState,
    station: Station,
    constants: tide.TideConstants,
    now_s: float,
    hours: int,
    method: str = "persistence",
) -> Persistence:
    """Predicted tide + the persisted surge, on the next ``hours``.

    ``method`` "trend" adds the rise of the residual's mean over the last tidal cycle, measured
    over ``TREND_LAG_S`` (never a fall), carried ``TREND_HORIZON_S`` ahead and held after that.
    """
    since = now_s - max(SKEW_LOOKBACK_S, CYCLE_S + TREND_LAG_S if method == "trend" else 0.0)
    t, raw = state.window(station.id, Kind.TIDE_LEVEL, since, now_s + 1)
    v = to_85(station, raw)
    predicted_obs = tide.predict(constants, t) if t.size else np.empty(0)
    last_hour = t >= now_s - RESIDUAL_WINDOW_S
    residual = (
        float(np.mean(v[last_hour] - predicted_obs[last_hour])) if last_hour.any() else math.nan
    )
    skew_m, skew_hw_s = _last_skew(t, v, predicted_obs, constants, now_s)
    candidates = [x for x in (residual, skew_m) if math.isfinite(x)]
    persisted = max([0.0, *candidates])
    grid = now_s + np.arange(0.0, hours * HOUR_S + OUTLOOK_STEP_S, OUTLOOK_STEP_S)
    predicted = tide.predict(constants, grid)  # grid[0] is now
    water = predicted + persisted
    rise = math.nan
    if method == "trend":
        rise = _residual_rise(t, v - predicted_obs, now_s)
        per_s = rise if rise > 0.0 else 0.0  # never a fall; NaN (too little record): none
        ahead = per_s * np.clip(grid - now_s, 0.0, TREND_HORIZON_S)
        water = water + np.minimum(ahead, TREND_MAX_M)
    hw = tide.high_low_waters(grid, water)
    inside = hw.is_high & (hw.times_s >= now_s) & (hw.times_s <= now_s + hours * HOUR_S)
    per_hour = int(HOUR_S / OUTLOOK_STEP_S)
    hourly = water[: hours * per_hour].reshape(hours, per_hour).max(axis=1)
    # a high water between grid points counts in its hour, so the hourly outlook reaches the level
    # of the highest high water, as the colour does
    hw_hour = np.minimum((hw.times_s[inside] - now_s) // HOUR_S, hours - 1).astype(np.int64)
    np.maximum.at(hourly, hw_hour, hw.heights_m[inside])
    extra: dict[str, object] = {
        "residual_m": None if math.isnan(residual) else round(residual, 3),
        "skew_surge_m": None if math.isnan(skew_m) else round(skew_m, 3),
        "skew_surge_hw_s": skew_hw_s,
        "persisted_surge_m": round(persisted, 3),
        "predicted_now_m": round(float(predicted[0]), 3),
        "forecast_method": method,
        "persistence_rule": PERSISTENCE_RULE,
    }
    if method == "trend":
        extra["surge_rise_m_per_h"] = None if math.isnan(rise) else round(rise * HOUR_S, 4)
        extra["trend_rule"] = (
            "+ max(rise of the tidal-cycle mean residual over the last"
            f" {TREND_LAG_S / HOUR_S:g} h, 0) x lead time up to {TREND_HORIZON_S / HOUR_S:g} h,"
            f" at most {TREND_MAX_M:g} m"
        )
    return Persistence(hw.times_s[inside], hw.heights_m[inside], hourly, persisted, extra)


def _residual_rise(t: np.ndarray, residual: np.ndarray, now_s: float) -> float:
    """Rise (m/s) of the mean residual over one tidal cycle, now against ``TREND_LAG_S`` ago.

    A mean over a whole cycle cancels most of what tide phase errors and tide-surge interaction
    put into the residual (±0.7 m within a cycle in a macro-tidal estuary). The residual is
    interpolated onto a regular grid so that hourly and 10-minute records weigh the cycle alike.
    NaN when the record does not cover both cycles or has a gap of more than 3 h in them.
    """
    start = now_s - CYCLE_S - TREND_LAG_S
    span = t >= start
    if span.sum() < TREND_MIN_POINTS or t[span][0] > start + HOUR_S or t[-1] < now_s - HOUR_S:
        return math.nan
    if np.diff(t[span]).max() > TREND_MAX_GAP_S:
        return math.nan
    grid = np.arange(now_s - CYCLE_S, now_s, OUTLOOK_STEP_S)
    now_mean = np.interp(grid, t[span], residual[span]).mean()
    before_mean = np.interp(grid - TREND_LAG_S, t[span], residual[span]).mean()
    return float(now_mean - before_mean) / TREND_LAG_S


def _last_skew(
    t: np.ndarray,
    v: np.ndarray,
    predicted: np.ndarray,
    constants: tide.TideConstants,
    now_s: float,
) -> tuple[float, float | None]:
    """Skew surge of the last predicted high water at least an hour past, and its time.

    Max observed minus max predicted within ±2 h of that high water (docs/DOMAIN.md §5.1: robust
    to phase errors); NaN when the gauge did not report around it.
    """
    grid = np.arange(now_s - SKEW_LOOKBACK_S, now_s - PHASE_MARGIN_S, OUTLOOK_STEP_S)
    hw = tide.high_low_waters(grid, tide.predict(constants, grid))
    past = hw.times_s[hw.is_high]
    if past.size == 0 or t.size < 3:
        return math.nan, None
    hw_s = float(past[-1])
    near = np.abs(t - hw_s) <= SKEW_HALF_WINDOW_S
    if near.sum() < 3:
        return math.nan, hw_s
    skew = surge.skew_surge(t[near], v[near], predicted[near]).skew_surge_m
    finite = skew[np.isfinite(skew)]
    return (float(finite[-1]) if finite.size else math.nan), hw_s


def strongest(
    times_s: np.ndarray, heights_m: np.ndarray, thresholds: object
) -> tuple[float, float, float | None, int] | None:
    """(peak time, peak m, onset time, level) over high waters: the highest, and the first at its level."""
    if heights_m.size == 0:
        return None
    lv = surge.surge_level(heights_m, thresholds)  # type: ignore[arg-type]
    i = int(np.argmax(heights_m))
    top = int(lv.max())
    onset = float(times_s[int(np.flatnonzero(lv == top)[0])]) if top > 0 else None
    return float(times_s[i]), float(heights_m[i]), onset, top


def assess_surge(  # noqa: PLR0917 - tests/marine_watch/risk/test_surge.py calls it positionally
    state: CoastState,
    station: Station,
    constants: tide.TideConstants | None,
    rules: RiskRules,
    now_s: float,
    max_age_s: float,
) -> tuple[Assessment, SurgeView | None]:
    """The storm-surge assessment of a tide station, and the water level overtopping uses."""
    latest = state.latest(station.id, Kind.TIDE_LEVEL, now_s=now_s, max_age_s=max_age_s)
    if latest is None:
        return unknown(station.id, Hazard.STORM_SURGE, "no valid tide reading"), None
    obs_t, obs_raw = latest
    obs_v = float(to_85(station, np.array([obs_raw]))[0])
    wl = station.warning_levels
    method = rules.surge_forecast
    fc = None
    if constants is not None and (method != "observed" or wl is None):
        fc = persistence(state, station, constants, now_s, rules.outlook_hours, method)
    if wl is None:
        hourly_fc = tuple(float(x) for x in _hourly_water(fc, obs_v)) if fc is not None else ()
        return _fallback(station, rules, obs_t, obs_v, fc), SurgeView(obs_v, obs_t, hourly_fc)
    thresholds = wl.thresholds()
    peak_m, peak_t = obs_v, obs_t
    onset: float | None = obs_t
    outlook: tuple[int, ...] = ()
    extra: dict[str, object] = {"observed_m": round(obs_v, 3), "observed_at_s": obs_t}
    if fc is None:
        extra["forecast_method"] = "observed" if constants is not None else "none"
    else:
        extra.update(fc.extra)
        extra["high_waters"] = [
            {"ts_s": float(t), "level_m": round(float(h), 3)}
            for t, h in zip(fc.hw_times_s, fc.hw_m, strict=True)
        ]
        outlook = tuple(int(x) for x in surge.surge_level(_hourly_water(fc, obs_v), thresholds))
        best = strongest(fc.hw_times_s, fc.hw_m, thresholds)
        if best is not None and best[1] > peak_m:
            peak_t, peak_m, onset, _ = best
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
    body = {**exp.to_dict(), **extra, "onset_s": onset if level > 0 else None}
    blue_cm = rules.blue_if_surge_cm_ge
    if fc is not None and blue_cm is not None and level < 1 and fc.surge_m * 100.0 >= blue_cm:
        level = 1
        body.update(
            level=1,
            colour="blue",
            onset_s=now_s,
            discretionary_blue={
                "surge_cm": round(fc.surge_m * 100.0, 1),
                "threshold_cm": blue_cm,
                "status": "UNKNOWN",
                "source": "docs/DOMAIN.md §1.3: NMEFC forecaster discretion, rule text not found",
            },
        )
    assessment = Assessment(
        station.id, Hazard.STORM_SURGE, level, body, outlook=outlook, data_s=obs_t
    )
    hourly = tuple(float(x) for x in _hourly_water(fc, obs_v)) if fc is not None else ()
    return assessment, SurgeView(peak_m, peak_t, hourly)


def _hourly_water(fc: Persistence, observed_m: float) -> np.ndarray:
    """Forecast hourly maximum water, the first hour holding the level observed now too."""
    hourly = fc.hourly_max_m.copy()
    if hourly.size:
        hourly[0] = max(float(hourly[0]), observed_m)
    return hourly


def _fallback(
    station: Station, rules: RiskRules, obs_t: float, obs_v: float, fc: Persistence | None
) -> Assessment:
    """No warning tide levels: the SAMPLE surge-only table, or an explicit "no surge rule"."""
    table = rules.surge_fallback_cm
    if table is None or fc is None:
        why = "no warning tide levels" + ("" if fc else " and no tide constants")
        return unknown(station.id, Hazard.STORM_SURGE, f"no surge rule: {why}")
    surge_cm = fc.surge_m * 100.0
    exp = levels.explain(
        Hazard.STORM_SURGE,
        station.id,
        round(surge_cm, 1),
        "cm",
        table.thresholds(),
        peak_time_s=obs_t,
        source=table.source,
        status=table.status,
    )
    level = int(levels.classify(np.array([surge_cm]), table.thresholds())[0])
    body = {
        **exp.to_dict(),
        **fc.extra,
        "observed_m": round(obs_v, 3),
        "rule": "surge-only fallback (no warning tide levels)",
    }
    return Assessment(station.id, Hazard.STORM_SURGE, level, body, data_s=obs_t)
