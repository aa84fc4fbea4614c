"""Wind speed to Beaufort force and to the CMA typhoon and gale warning signals.

Sources: DOMAIN.md §2.1-2.3 (CMA 《气象灾害预警信号及防御指南》 criteria [X-CHECK]; Beaufort
0-17 table, GB/T 28591-2012 [X-CHECK]). A signal colour is reached when the mean wind reaches
force N **or** the gust reaches force M. Which averaging period ("平均风力") the CMA uses is
[UNKNOWN]: pass the mean the station config chooses (default 10-min; NDBC WSPD is 8-min).
"""

from dataclasses import dataclass

import numpy as np

from risk_models.levels import combine
from risk_models.types import UNKNOWN, FloatArray, IntArray

__all__ = [
    "BEAUFORT_UPPER_MPS",
    "GALE_SIGNAL",
    "TYPHOON_SIGNAL",
    "SignalCriteria",
    "beaufort",
    "gale_signal_level",
    "signal_level",
    "signal_level_ahead",
    "typhoon_signal_level",
]

#: Upper bound (m/s, 10 m height) of Beaufort forces 0..17. DOMAIN.md §2.3 [X-CHECK] S27.
BEAUFORT_UPPER_MPS = (
    0.2, 1.5, 3.3, 5.4, 7.9, 10.7, 13.8, 17.1, 20.7,
    24.4, 28.4, 32.6, 36.9, 41.4, 46.1, 50.9, 56.0, 61.2,
)  # fmt: skip
_MAX_FORCE = 17  # forces above 61.2 m/s are reported as 17 ("17+")


@dataclass(frozen=True, slots=True)
class SignalCriteria:
    """Beaufort forces the mean wind or the gust must reach for blue, yellow, orange, red."""

    mean_force: tuple[int, int, int, int]
    gust_force: tuple[int, int, int, int]
    lead_time_h: tuple[int, int, int, int]


#: Typhoon signal (台风预警信号), DOMAIN.md §2.1 [X-CHECK] S26.
TYPHOON_SIGNAL = SignalCriteria((6, 8, 10, 12), (8, 10, 12, 14), (24, 24, 12, 6))
#: Gale signal (大风预警信号), DOMAIN.md §2.2 [X-CHECK] S26.
GALE_SIGNAL = SignalCriteria((6, 8, 10, 12), (7, 9, 11, 13), (24, 12, 6, 6))


def beaufort(wind_mps: FloatArray | float) -> IntArray:
    """Beaufort force of a mean wind speed.

    Parameters
    ----------
    wind_mps : (...) wind speed at 10 m, m/s; NaN for missing.

    Returns
    -------
    (...) int8 force 0..17: the first force whose upper bound the speed does not exceed
    (DOMAIN.md §2.3); 17 above 61.2 m/s; UNKNOWN (-1) where the speed is NaN.

    Raises
    ------
    ValueError
        If a speed is negative.
    """
    v = np.asarray(wind_mps, dtype=np.float64)
    if np.any(v < 0):
        msg = f"wind_mps must be >= 0, got a minimum of {np.nanmin(v)}"
        raise ValueError(msg)
    force = np.minimum(np.searchsorted(np.asarray(BEAUFORT_UPPER_MPS), v, side="left"), _MAX_FORCE)
    out: IntArray = np.where(np.isnan(v), UNKNOWN, force).astype(np.int8)
    return out


def _level_from_force(force: IntArray, bounds: tuple[int, int, int, int]) -> IntArray:
    level = np.zeros(force.shape, dtype=np.int8)
    for bound in bounds:
        level += force >= bound
    out: IntArray = np.where(force == UNKNOWN, np.int8(UNKNOWN), level)
    return out


def signal_level(
    mean_mps: FloatArray | float, gust_mps: FloatArray | float, criteria: SignalCriteria
) -> IntArray:
    """Signal level 0..4 from mean wind and gust: mean ≥ force N or gust ≥ force M.

    Parameters
    ----------
    mean_mps, gust_mps : (...) mean wind and gust, m/s (broadcast together); NaN for missing.
    criteria : forces per colour (:data:`TYPHOON_SIGNAL`, :data:`GALE_SIGNAL` or config).

    Returns
    -------
    (...) int8 levels: the higher of the mean and gust levels; a missing one is ignored;
    UNKNOWN (-1) only if both are missing.
    """
    mean, gust = np.broadcast_arrays(beaufort(mean_mps), beaufort(gust_mps))
    by_mean = _level_from_force(mean, criteria.mean_force)
    by_gust = _level_from_force(gust, criteria.gust_force)
    return combine(np.stack([by_mean, by_gust]), axis=0)


def typhoon_signal_level(mean_mps: FloatArray | float, gust_mps: FloatArray | float) -> IntArray:
    """Typhoon signal level (DOMAIN.md §2.1): blue 6/8, yellow 8/10, orange 10/12, red 12/14.

    See :func:`signal_level` for shapes and missing values.
    """
    return signal_level(mean_mps, gust_mps, TYPHOON_SIGNAL)


def gale_signal_level(mean_mps: FloatArray | float, gust_mps: FloatArray | float) -> IntArray:
    """Gale signal level (DOMAIN.md §2.2): blue 6/7, yellow 8/9, orange 10/11, red 12/13.

    See :func:`signal_level` for shapes and missing values.
    """
    return signal_level(mean_mps, gust_mps, GALE_SIGNAL)


def signal_level_ahead(
    lead_s: FloatArray,
    mean_mps: FloatArray | float,
    gust_mps: FloatArray | float,
    criteria: SignalCriteria,
) -> IntArray:
    """Signal level of each forecast point: a colour counts only within its lead time (DOMAIN.md §2.1).

    Parameters
    ----------
    lead_s : (n,) seconds from now to each forecast time (negative: already passed, ignored).
    mean_mps, gust_mps : (n,) forecast mean wind and gust, m/s; NaN for missing.
    criteria : forces and lead times per colour (e.g. :data:`TYPHOON_SIGNAL`: 24/24/12/6 h).

    Returns
    -------
    (n,) int8: the highest level whose force is forecast within that level's lead time: force 12
    forecast in 20 h is yellow (yellow's lead is 24 h, red's 6 h), red once it is 6 h or less
    ahead; 0 beyond every lead time or for a passed point. The forecast's level is the max.
    """
    lead = np.asarray(lead_s, dtype=np.float64)
    by_force = signal_level(mean_mps, gust_mps, criteria)
    leads = np.asarray(criteria.lead_time_h, dtype=np.float64) * 3600.0
    # the highest colour whose lead time still covers each point: 0 beyond every lead
    reach = np.where(lead[:, None] <= leads[None, :], np.arange(1, 5)[None, :], 0).max(axis=1)
    out: IntArray = np.where(lead >= 0, np.minimum(by_force, reach), 0).astype(np.int8)
    return out
