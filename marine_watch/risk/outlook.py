"""The 24 h outlook of a place: hour by hour, every hazard that can be forecast.

Each assessment may carry an hourly outlook from the evaluation time (``Assessment.outlook``): storm
surge from the predicted tide plus the persisted surge and any external surge forecast, overtopping
from that forecast water level with the forecast waves (or the last observed waves held), wind
from a typhoon wind forecast, waves from a wave forecast. A hazard without a forecast input (red
tide; wind or waves without a valid forecast) is listed as not covered, with the reason. The first slot is always the colour shown now (the card), so the
outlook never reads lower than the card it sits under (docs/WARNINGS.md, the outlook).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from marine_watch.risk.assessment import Assessment
from risk_models import wind
from risk_models.levels import COLOUR_OF_CODE
from risk_models.types import UNKNOWN, Hazard

HOUR_S = 3600.0
STEP_S = 600.0  # wind forecasts are interpolated on this step between their points

#: Why a hazard has no outlook at a place (shown to residents and in the API).
NOT_FORECAST = {
    Hazard.WAVES.value: "no valid wave forecast: waves count in the colour now only",
    Hazard.RED_TIDE.value: "red tide is not forecast: it counts in the colour now only",
    Hazard.WIND.value: "no valid typhoon wind forecast: wind counts in the colour now only",
    Hazard.STORM_SURGE.value: "no tide prediction or surge forecast (or surge_forecast = observed)",
    Hazard.OVERTOPPING.value: "no forecast water level or no valid waves for this dike",
}


@dataclass(frozen=True, slots=True)
class Outlook:
    """Hourly slots (the first is the colour now), and which hazards they cover."""

    slots: list[dict[str, object]]
    covers: list[str]
    not_covered: list[dict[str, str]]


def at_hours(
    times_s: np.ndarray, levels: np.ndarray, start_s: float, hours: int
) -> tuple[int, ...]:
    """Levels of forecast points binned by hour from ``start_s`` (max per hour; -1: no point)."""
    out = np.full(hours, UNKNOWN, dtype=np.int64)
    idx = np.floor((np.asarray(times_s, dtype=np.float64) - start_s) / HOUR_S).astype(np.int64)
    ok = (idx >= 0) & (idx < hours)
    np.maximum.at(out, idx[ok], np.asarray(levels, dtype=np.int64)[ok])
    return tuple(int(x) for x in out)


def merge(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """Hour by hour, the higher of two outlooks (either may be empty)."""
    if not a or not b:
        return tuple(a or b)
    n = max(len(a), len(b))
    pa = list(a) + [UNKNOWN] * (n - len(a))
    pb = list(b) + [UNKNOWN] * (n - len(b))
    return tuple(max(x, y) for x, y in zip(pa, pb, strict=True))


def wind_hours(
    times_s: np.ndarray, mean_mps: np.ndarray, gust_mps: np.ndarray, start_s: float, hours: int
) -> tuple[int, ...]:
    """Hourly typhoon-signal levels of a wind forecast (DOMAIN.md §2.1 criteria on the winds).

    Mean wind and gust are interpolated linearly between forecast points every 10 min; hours
    outside the forecast's span have no forecast (-1).
    """
    order = np.argsort(times_s)
    t, m, g = times_s[order], mean_mps[order], gust_mps[order]
    grid = start_s + np.arange(0.0, hours * HOUR_S, STEP_S)
    inside = (grid >= t[0]) & (grid <= t[-1])
    if t.size == 1:
        inside = np.abs(grid - t[0]) < HOUR_S / 2
    mean = np.interp(grid, t, m)
    gust = np.interp(grid, t, g) if np.isfinite(g).all() else np.full(grid.size, np.nan)
    levels = wind.typhoon_signal_level(mean, gust)
    return at_hours(grid[inside], levels[inside], start_s, hours)


def place_outlook(
    current_level: int,
    members: Iterable[Assessment],
    start_s: float,
    hours: int,
    current_hazard: str | None = None,
) -> Outlook:
    """The outlook of a place from its members' assessments; slot 0 is ``current_level``."""
    levels = np.full(hours, UNKNOWN, dtype=np.int64)
    drivers: list[str | None] = [None] * hours
    covers: set[str] = set()
    not_covered: dict[str, str] = {}
    for a in members:
        name = a.hazard.value
        if not a.outlook:
            reason = NOT_FORECAST.get(name, "not forecast")
            if a.level == UNKNOWN or a.explanation.get("held"):
                reason = f"no data: {a.reason or 'holding its last known level'}"
            not_covered.setdefault(name, reason)
            continue
        covers.add(name)
        for i, lv in enumerate(a.outlook[:hours]):
            if lv > levels[i]:
                levels[i], drivers[i] = lv, name
    slots: list[dict[str, object]] = []
    for i in range(hours):
        lv = int(levels[i])
        slot: dict[str, object] = {
            "hour": i,
            "ts": start_s + HOUR_S * i,
            "level": lv,
            "colour": COLOUR_OF_CODE[lv + 1] if lv >= 0 else "unknown",
            "hazard": drivers[i],
            "now": False,
            "forecast_level": lv,
        }
        if i == 0:  # the colour shown now, whatever drove it: the outlook never contradicts it
            slot.update(
                level=current_level,
                colour=COLOUR_OF_CODE[current_level + 1] if current_level >= 0 else "unknown",
                hazard=current_hazard,
                now=True,
            )
        slots.append(slot)
    gaps = [{"hazard": h, "reason": r} for h, r in sorted(not_covered.items()) if h not in covers]
    return Outlook(slots, sorted(covers), gaps)
