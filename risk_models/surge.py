"""Storm surge: residual, skew surge, forecast high water, and the surge warning level.

Definitions (DOMAIN.md §5.1): the residual is observed minus predicted astronomical tide, both in
the same datum and time zone; the skew surge is, per tidal cycle, the highest observed level minus
the predicted high water, whatever their timing. The warning level follows DOMAIN.md §1.3: the
highest colour whose warning tide level the forecast high water reaches (``>=``).
"""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from risk_models.tide import high_low_waters
from risk_models.types import UNKNOWN, FloatArray, IntArray, Thresholds

__all__ = [
    "HighWaterForecast",
    "SkewSurge",
    "SurgeSource",
    "forecast_high_water",
    "legacy_single_level",
    "residual",
    "skew_surge",
    "surge_level",
]

#: Legacy single-warning-level rule (DOMAIN.md §1.3, bulletins up to about 2016 [S17, S18]):
#: blue from W - 30 cm, yellow from W, orange from W + 30 cm, red from W + 80 cm.
LEGACY_OFFSETS_M = (-0.30, 0.0, 0.30, 0.80)
#: Half a semidiurnal cycle (M2 period / 2), the window when only one high water is found.
_HALF_CYCLE_S = 12.4206 * 3600.0 / 2.0


def _same_shape(a: object, b: object, names: str) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        msg = f"{names} must have the same shape, got {x.shape} and {y.shape}"
        raise ValueError(msg)
    return x, y


def residual(observed_m: FloatArray, predicted_m: FloatArray) -> FloatArray:
    """Non-tidal residual.

    Parameters
    ----------
    observed_m : (n,) observed water level, m
    predicted_m : (n,) predicted astronomical tide at the same times, same datum, m

    Returns
    -------
    (n,) observed - predicted, m; NaN where either is NaN.
    """
    observed, predicted = _same_shape(observed_m, predicted_m, "observed_m and predicted_m")
    result: FloatArray = observed - predicted
    return result


@dataclass(frozen=True, slots=True, eq=False)
class SkewSurge:
    """One skew surge per predicted high water.

    Attributes
    ----------
    times_s : (m,) time of the predicted high water, UTC seconds since the Unix epoch
    predicted_high_m : (m,) predicted high water, m
    observed_high_times_s : (m,) time of the highest observation in the cycle (NaN if none)
    observed_high_m : (m,) highest observation in the cycle, m (NaN if none)
    skew_surge_m : (m,) observed_high_m - predicted_high_m, m
    """

    times_s: FloatArray
    predicted_high_m: FloatArray
    observed_high_times_s: FloatArray
    observed_high_m: FloatArray
    skew_surge_m: FloatArray


def skew_surge(times_s: FloatArray, observed_m: FloatArray, predicted_m: FloatArray) -> SkewSurge:
    """Skew surge of each tidal cycle.

    The cycle of a predicted high water runs from halfway after the previous predicted high
    water to halfway before the next (at the ends: the same half-width as on the other side).
    Both maxima are taken over the samples of that cycle (DOMAIN.md §5.1: max observed minus
    max predicted), so a prediction against itself has zero skew surge.

    Parameters
    ----------
    times_s : (n,) UTC seconds since the Unix epoch
    observed_m : (n,) observed water level, m; NaN allowed
    predicted_m : (n,) predicted tide at the same times, m

    Returns
    -------
    SkewSurge, one row per predicted high water.
    """
    t, observed = _same_shape(times_s, observed_m, "times_s and observed_m")
    _, predicted = _same_shape(times_s, predicted_m, "times_s and predicted_m")
    hw_t, _ = high_low_waters(t, predicted, refine=False).high
    order = np.argsort(t, kind="stable")
    t, observed, predicted = t[order], observed[order], predicted[order]
    if hw_t.size == 0:
        empty = np.empty(0)
        return SkewSurge(empty, empty, empty, empty, empty)
    half = np.diff(hw_t) / 2.0
    before = np.concatenate((half[:1], half)) if half.size else np.array([_HALF_CYCLE_S])
    after = np.concatenate((half, half[-1:])) if half.size else np.array([_HALF_CYCLE_S])
    start = np.searchsorted(t, hw_t - before, side="left")
    stop = np.searchsorted(t, hw_t + after, side="left")
    obs_t, obs_h = _window_argmax(t, observed, start, stop)
    pred_t, pred_h = _window_argmax(t, predicted, start, stop)
    return SkewSurge(pred_t, pred_h, obs_t, obs_h, obs_h - pred_h)


def _window_argmax(
    t: FloatArray, values: FloatArray, start: npt.NDArray[np.intp], stop: npt.NDArray[np.intp]
) -> tuple[FloatArray, FloatArray]:
    """Time and value of the maximum of ``values[start:stop]`` per window (NaN if none)."""
    length = np.maximum(stop - start, 0)
    segment = np.repeat(np.arange(start.size), length)
    idx = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length - start, length)
    masked = np.where(np.isfinite(values), values, -np.inf)
    best = np.full(start.size, -1, dtype=np.intp)
    if idx.size:
        by_height = np.lexsort((-masked[idx], segment))
        first_segment, first = np.unique(segment[by_height], return_index=True)
        best[first_segment] = idx[by_height[first]]
    found = best >= 0
    found[found] = np.isfinite(masked[best[found]])
    safe = np.maximum(best, 0)
    return np.where(found, t[safe], np.nan), np.where(found, values[safe], np.nan)


class SurgeSource(StrEnum):
    """Which surge estimate set a forecast high water."""

    PERSISTENCE = "persistence"
    EXTERNAL = "external"
    NONE = "none"


@dataclass(frozen=True, slots=True, eq=False)
class HighWaterForecast:
    """Forecast high waters and where their surge came from.

    Attributes
    ----------
    times_s : (m,) UTC seconds since the Unix epoch
    high_water_m : (m,) predicted high water + surge, m (NaN if no surge estimate)
    surge_m : (m,) surge added, m
    source : (m,) `SurgeSource` of each surge
    """

    times_s: FloatArray
    high_water_m: FloatArray
    surge_m: FloatArray
    source: tuple[SurgeSource, ...]


def forecast_high_water(
    pred_hw_times_s: FloatArray,
    pred_hw_m: FloatArray,
    recent_residual_m: FloatArray,
    *,
    external_surge_m: FloatArray | float | None = None,
) -> HighWaterForecast:
    """Forecast high water = predicted high water + expected surge (DOMAIN.md §5.1).

    The expected surge is the persistence of the recent residual (its mean, NaN ignored) and,
    when an external forecast surge is given, the higher of the two (conservative policy,
    DOMAIN.md §5.1 [SAMPLE]).

    Parameters
    ----------
    pred_hw_times_s : (m,) times of the predicted high waters, UTC seconds since the Unix epoch
    pred_hw_m : (m,) predicted astronomical high waters, m
    recent_residual_m : (r,) residuals of the last 1-3 h, m
    external_surge_m : (m,) or scalar surge forecast for each high water, m; NaN = none

    Returns
    -------
    HighWaterForecast; NaN high water where neither estimate exists.
    """
    times, hw = _same_shape(pred_hw_times_s, pred_hw_m, "pred_hw_times_s and pred_hw_m")
    recent = np.asarray(recent_residual_m, dtype=np.float64)
    finite = recent[np.isfinite(recent)]
    persistence = np.full(hw.shape, float(finite.mean()) if finite.size else np.nan)
    external = np.broadcast_to(
        np.asarray(np.nan if external_surge_m is None else external_surge_m, dtype=np.float64),
        hw.shape,
    )
    use_external = np.isfinite(external) & ~(external < persistence)
    surge = np.where(use_external, external, persistence)
    source = tuple(
        SurgeSource.EXTERNAL
        if ext
        else SurgeSource.PERSISTENCE
        if np.isfinite(p)
        else SurgeSource.NONE
        for ext, p in zip(use_external, persistence, strict=True)
    )
    return HighWaterForecast(times, hw + surge, surge, source)


def surge_level(high_water_m: FloatArray, thresholds: Thresholds) -> IntArray:
    """Storm-surge warning level of each high water (DOMAIN.md §1.3).

    Parameters
    ----------
    high_water_m : (n,) forecast high water, m, in the datum of the thresholds
    thresholds : warning tide levels blue..red, m, same datum

    Returns
    -------
    (n,) int8 level: 0 none, 1 blue .. 4 red (highest colour reached, ``>=``); -1 (UNKNOWN) for NaN.
    """
    h = np.asarray(high_water_m, dtype=np.float64)
    bounds = np.asarray(thresholds.as_tuple())
    level = (h[..., None] >= bounds).sum(axis=-1).astype(np.int8)
    result: IntArray = np.where(np.isnan(h), np.int8(UNKNOWN), level).astype(np.int8)
    return result


def legacy_single_level(high_water_m: FloatArray, w_m: float) -> IntArray:
    """Warning level by the legacy single-warning-level rule (DOMAIN.md §1.3).

    Parameters
    ----------
    high_water_m : (n,) forecast high water H, m
    w_m : the station's single warning tide level W, m, same datum

    Returns
    -------
    (n,) int8 level: blue from W - 0.30 m, yellow from W, orange from W + 0.30 m, red from
    W + 0.80 m; -1 (UNKNOWN) for NaN.
    """
    blue, yellow, orange, red = (w_m + offset for offset in LEGACY_OFFSETS_M)
    thresholds = Thresholds(blue=blue, yellow=yellow, orange=orange, red=red)
    return surge_level(high_water_m, thresholds)
