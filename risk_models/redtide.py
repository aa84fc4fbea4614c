"""Red-tide (harmful algal bloom) level from buoy chlorophyll-a, oxygen, pH and toxic cell counts.

All thresholds are [SAMPLE] (DOMAIN.md §3.3): no national rule maps these indicators to colours
(§3.2, [UNKNOWN]). They are data, overridable from config, and must be labelled SAMPLE in the UI.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from risk_models.levels import classify
from risk_models.types import UNKNOWN, FloatArray, IntArray, Level, Thresholds

__all__ = ["SAMPLE_RULE", "RedTideRule", "persistent_level", "red_tide_level"]


@dataclass(frozen=True, slots=True)
class RedTideRule:
    """Thresholds of the red-tide rule; every default is [SAMPLE] (DOMAIN.md §3.3)."""

    chla_ugl: Thresholds  # 1-h mean chlorophyll-a, µg/L, blue..red
    do_orange_below_mgl: float  # yellow or above becomes orange below this DO
    do_red_below_mgl: float  # red below this DO, whatever the chl-a
    ph_above: float  # pH above this together with ...
    do_saturation_above_pct: float  # ... DO saturation above this raises one level (cap red)
    persistence_h: int  # consecutive hours a level must hold before it is raised


SAMPLE_RULE = RedTideRule(
    chla_ugl=Thresholds(blue=10.0, yellow=20.0, orange=40.0, red=80.0),
    do_orange_below_mgl=4.0,
    do_red_below_mgl=3.0,
    ph_above=8.6,
    do_saturation_above_pct=130.0,
    persistence_h=2,
)


def _nan_like(x: FloatArray) -> FloatArray:
    return np.full(x.shape, np.nan)


def red_tide_level(
    chla_ugl: FloatArray,
    *,
    do_mgl: FloatArray | None = None,
    do_saturation_pct: FloatArray | None = None,
    ph: FloatArray | None = None,
    toxic_cells_per_l: FloatArray | None = None,
    toxic_reference_cells_per_l: FloatArray | float | None = None,
    rule: RedTideRule = SAMPLE_RULE,
) -> IntArray:
    """Red-tide level per sample (DOMAIN.md §3.3 SAMPLE rule).

    Parameters
    ----------
    chla_ugl : (...) 1-h mean chlorophyll-a, µg/L (after QC: biofouling makes spikes).
    do_mgl : (...) dissolved oxygen, mg/L.
    do_saturation_pct : (...) dissolved oxygen saturation, %.
    ph : (...) pH. The pH + supersaturation escalator should be fed values already held for
        2 h (see :func:`persistent_level`).
    toxic_cells_per_l : (...) cell density of a toxic species, cells/L.
    toxic_reference_cells_per_l : (...) that species' reference bloom density ("赤潮基准密度",
        e.g. 500 cells/L for *Gymnodinium catenatum* in Fujian).
    rule : thresholds; :data:`SAMPLE_RULE` by default.

    Returns
    -------
    (...) int8 levels: chl-a bounds; orange if yellow or above and DO < 4; red if DO < 3 or
    toxic cells ≥ reference; +1 (cap red) when pH > 8.6 and DO saturation > 130 %.
    UNKNOWN (-1) where chl-a is missing and no escalator forces red.
    """
    chla = np.asarray(chla_ugl, dtype=np.float64)
    do = _nan_like(chla) if do_mgl is None else np.asarray(do_mgl, dtype=np.float64)
    sat = _nan_like(chla) if do_saturation_pct is None else np.asarray(do_saturation_pct)
    ph_ = _nan_like(chla) if ph is None else np.asarray(ph, dtype=np.float64)
    cells = _nan_like(chla) if toxic_cells_per_l is None else np.asarray(toxic_cells_per_l)
    reference = np.inf if toxic_reference_cells_per_l is None else toxic_reference_cells_per_l
    level = classify(chla, rule.chla_ugl)
    known = level != UNKNOWN
    level = np.where(
        known & (level >= Level.YELLOW) & (do < rule.do_orange_below_mgl),
        np.maximum(level, Level.ORANGE),
        level,
    )
    raised = (ph_ > rule.ph_above) & (sat > rule.do_saturation_above_pct)
    level = np.where(known & raised, np.minimum(level + 1, Level.RED), level)
    red = (do < rule.do_red_below_mgl) | (cells >= np.asarray(reference))
    out: IntArray = np.where(red, np.int8(Level.RED), level).astype(np.int8)
    return out


def persistent_level(levels: IntArray, hours: int) -> IntArray:
    """Level held for ``hours`` consecutive hourly samples: the minimum over the trailing window.

    Parameters
    ----------
    levels : (..., t) int levels per hour along the last axis, oldest first.
    hours : samples a level must hold before it is shown (DOMAIN.md §3.3: 2) [SAMPLE].

    Returns
    -------
    (..., t) int8 levels. A rise shows only after it held ``hours`` samples; a fall shows at
    once. UNKNOWN (-1) where the window holds an unknown sample or is shorter than ``hours``.

    Raises
    ------
    ValueError
        If ``hours`` < 1.
    """
    if hours < 1:
        msg = f"hours must be >= 1, got {hours}"
        raise ValueError(msg)
    lv = np.asarray(levels, dtype=np.int8)
    padded = np.concatenate([np.full((*lv.shape[:-1], hours - 1), UNKNOWN, np.int8), lv], axis=-1)
    out: IntArray = sliding_window_view(padded, hours, axis=-1).min(axis=-1).astype(np.int8)
    return out
