"""Warning levels from values and four colour bounds, their combination, and their explanation.

A level is the number of the four bounds (blue, yellow, orange, red) that a value reaches, with
"reaches" meaning ``value >= bound`` ("达到或超过", DOMAIN.md §1.3). Missing values (NaN) give
:data:`~risk_models.types.UNKNOWN` (-1), never 0 (DOMAIN.md §7: "no data ≠ none").

The classification is a sum of four comparisons rather than ``np.digitize``: it also fits
per-location bounds and is 3-4x faster (measured with numpy on this service's shapes).
"""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from risk_models.types import UNKNOWN, FloatArray, Hazard, IntArray, Level, Thresholds

__all__ = [
    "COLOUR_OF_CODE",
    "Explanation",
    "classify",
    "classify_hazards",
    "colours",
    "combine",
    "combine_with_unknown",
    "explain",
    "thresholds_array",
]

#: Colour word for each level code, indexed by ``level + 1`` (so UNKNOWN -1 comes first).
COLOUR_OF_CODE: tuple[str, ...] = ("unknown", "none", "blue", "yellow", "orange", "red")

_N_BOUNDS = 4


def thresholds_array(thresholds: Thresholds | FloatArray) -> FloatArray:
    """Return thresholds as a float64 array whose last axis holds (blue, yellow, orange, red).

    Parameters
    ----------
    thresholds : one :class:`Thresholds`, or an array (..., 4) of bounds in the value's unit.

    Returns
    -------
    (4,) for one :class:`Thresholds`, else the array as float64 (...,4).

    Raises
    ------
    ValueError
        If the last axis is not 4 long, or a row of finite bounds does not rise strictly.
        Rows that are all NaN are allowed: they mean "no bounds configured" and give UNKNOWN.
    """
    if isinstance(thresholds, Thresholds):
        return np.asarray(thresholds.as_tuple(), dtype=np.float64)
    bounds = np.asarray(thresholds, dtype=np.float64)
    if bounds.ndim == 0 or bounds.shape[-1] != _N_BOUNDS:
        msg = f"thresholds must have a last axis of 4 (blue, yellow, orange, red), got shape {bounds.shape}"
        raise ValueError(msg)
    # Column by column: 5-10x faster than np.diff over a (n, 4) array for a million rows.
    rising = (bounds[..., 1] > bounds[..., 0]) & (bounds[..., 2] > bounds[..., 1])
    rising &= bounds[..., 3] > bounds[..., 2]
    if not rising.all() and not np.isnan(bounds[~rising]).all():
        msg = "each row of thresholds must be finite and rise strictly from blue to red, or be all NaN"
        raise ValueError(msg)
    return bounds


def classify(values: FloatArray, thresholds: Thresholds | FloatArray) -> IntArray:
    """Classify values into levels 0..4 against four colour bounds.

    Parameters
    ----------
    values : (...) values in the unit of the bounds (e.g. Hs in m, q in l/s per m).
    thresholds : one :class:`Thresholds` shared by all values, or bounds of shape
        ``values.shape + (4,)`` (one row per location), or any shape that broadcasts to it.

    Returns
    -------
    (...) int8 levels, same shape as ``values``: the number of bounds with ``value >= bound``
    (0 none … 4 red); UNKNOWN (-1) where the value is NaN or the row of bounds is all NaN.

    Raises
    ------
    ValueError
        If the bounds do not broadcast against ``values`` or do not rise strictly.
    """
    v = np.asarray(values, dtype=np.float64)
    bounds = thresholds_array(thresholds)
    try:
        np.broadcast_shapes(bounds.shape[:-1], v.shape)
    except ValueError:
        msg = f"thresholds of shape {bounds.shape} do not fit values of shape {v.shape}"
        raise ValueError(msg) from None
    if len(np.broadcast_shapes(bounds.shape[:-1], v.shape)) > v.ndim:
        msg = f"thresholds of shape {bounds.shape} would add axes to values of shape {v.shape}"
        raise ValueError(msg)
    level = np.zeros(v.shape, dtype=np.int8)
    for k in range(_N_BOUNDS):
        level += v >= bounds[..., k]
    unknown = np.isnan(v) | np.isnan(bounds[..., 0])
    level[unknown] = UNKNOWN
    return level


def classify_hazards(values: FloatArray, thresholds: FloatArray) -> IntArray:
    """Classify N locations x H hazards at once.

    Parameters
    ----------
    values : (n, h) one column per hazard, each in the unit of its bounds.
    thresholds : (h, 4) bounds per hazard, or (n, h, 4) bounds per location and hazard.

    Returns
    -------
    (n, h) int8 levels, UNKNOWN (-1) where a value is NaN. Combine them with :func:`combine`.

    Raises
    ------
    ValueError
        If ``values`` is not 2-D or the bounds do not match its hazard axis.
    """
    v = np.asarray(values, dtype=np.float64)
    bounds = thresholds_array(thresholds)
    if v.ndim != 2 or bounds.ndim not in (2, 3) or bounds.shape[-2] != v.shape[1]:
        msg = f"expected values (n, h) and thresholds (h, 4) or (n, h, 4), got {v.shape} and {bounds.shape}"
        raise ValueError(msg)
    return classify(v, bounds)


def combine(levels: IntArray, axis: int = -1) -> IntArray:
    """Combine levels of several hazards or children by taking the most severe.

    Parameters
    ----------
    levels : (..., h, ...) int levels in -1..4.
    axis : the axis to reduce (hazards, or children of a region).

    Returns
    -------
    int8 levels with ``axis`` removed: the highest known level; UNKNOWN (-1) only where all
    inputs are unknown (DOMAIN.md §7: parent = max of known children). Use
    :func:`combine_with_unknown` to learn where some inputs were unknown.
    """
    lv = np.asarray(levels)
    # UNKNOWN (-1) sorts below NONE (0), so a plain max lets any known level win.
    out: IntArray = np.max(lv, axis=axis).astype(np.int8)
    return out


def combine_with_unknown(
    levels: IntArray, axis: int = -1
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Combine levels as :func:`combine` and flag where any input was unknown.

    Returns
    -------
    (level, any_unknown): int8 levels and a bool array of the same shape, True where at least
    one input along ``axis`` was UNKNOWN (the shown colour may be too low: "stale/unknown").
    """
    lv = np.asarray(levels)
    return combine(lv, axis=axis), np.any(lv == UNKNOWN, axis=axis)


def colours(levels: IntArray) -> npt.NDArray[np.str_]:
    """Map level codes to colour words.

    Parameters
    ----------
    levels : (...) int levels in -1..4.

    Returns
    -------
    (...) str array: "unknown", "none", "blue", "yellow", "orange" or "red".

    Raises
    ------
    ValueError
        If a level is outside -1..4.
    """
    lv = np.asarray(levels)
    if lv.size and (lv.min() < UNKNOWN or lv.max() > Level.RED):
        msg = f"levels must lie in -1..4, got {lv.min()}..{lv.max()}"
        raise ValueError(msg)
    return np.asarray(COLOUR_OF_CODE)[lv.astype(np.intp) + 1]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a point has its colour (DOMAIN.md §8: station, value, threshold, margin, datum, source, peak).

    ``level`` is None when the value was missing (unknown), never NONE.
    """

    hazard: Hazard
    station: str
    value: float
    unit: str
    level: Level | None
    threshold: float | None
    next_threshold: float | None
    margin: float | None
    peak_time_s: float | None
    datum: str | None
    source: str
    status: str

    def to_dict(self) -> dict[str, str | float | int | None]:
        """Return a JSON-ready dict; ``level`` is -1 and ``colour`` "unknown" when unknown."""
        code = UNKNOWN if self.level is None else int(self.level)
        return {
            "hazard": self.hazard.value,
            "station": self.station,
            "value": None if math.isnan(self.value) else self.value,
            "unit": self.unit,
            "level": code,
            "colour": COLOUR_OF_CODE[code + 1],
            "threshold": self.threshold,
            "next_threshold": self.next_threshold,
            "margin": self.margin,
            "peak_time_s": self.peak_time_s,
            "datum": self.datum,
            "source": self.source,
            "status": self.status,
        }


def explain(
    hazard: Hazard,
    station: str,
    value: float,
    unit: str,
    thresholds: Thresholds,
    *,
    peak_time_s: float | None = None,
    datum: str | None = None,
    source: str = "",
    status: str = "",
) -> Explanation:
    """Explain the level of one value against its bounds.

    Parameters
    ----------
    hazard, station : what and where.
    value : the (peak) value, in ``unit``; NaN for missing.
    thresholds : the four bounds in ``unit``.
    peak_time_s : time of the peak, s since the Unix epoch (UTC), if known.
    datum, source, status : vertical datum, source of the bounds and their status tag
        (e.g. "SAMPLE", "X-CHECK").

    Returns
    -------
    Explanation with the reached bound, the next bound and ``margin = next - value``
    (None above red, or everything None but ``value`` when the value is missing).
    """
    if math.isnan(value):
        return Explanation(
            hazard, station, value, unit, None, None, None, None, peak_time_s, datum, source, status
        )
    bounds = thresholds.as_tuple()
    level = Level(sum(value >= b for b in bounds))
    threshold = thresholds.bound(level)
    next_threshold = None if level == Level.RED else bounds[level.value]
    margin = None if next_threshold is None else next_threshold - value
    return Explanation(
        hazard,
        station,
        value,
        unit,
        level,
        threshold,
        next_threshold,
        margin,
        peak_time_s,
        datum,
        source,
        status,
    )
