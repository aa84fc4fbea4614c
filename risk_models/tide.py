"""Harmonic tide: analysis (`fit`), prediction (`predict`), and high and low waters.

Model (DOMAIN.md §5.3), with Greenwich phase lags g in UTC:
``h(t) = mean [+ trend] + sum_k f_k(t) A_k cos(2 pi (V_k(t) + u_k(t)) - g_k)``.
Constituents, nodal corrections and astronomical arguments: `risk_models.constituents`.
Times are UTC seconds since the Unix epoch (float64); levels are metres.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from risk_models.tide_fit import fit, select_constituents
from risk_models.tide_predict import TideConstants, basis, predict
from risk_models.types import FloatArray

__all__ = [
    "Extrema",
    "TideConstants",
    "basis",
    "fit",
    "high_low_waters",
    "predict",
    "select_constituents",
]

BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]

#: Shortest time between two high waters. Semidiurnal high waters are 12.4 h apart and mixed
#: tides can have a small high water 5-6 h after a large one; 3 h keeps both and merges the
#: wiggles of a noisy or double high water (e.g. a stand at high water).
MIN_SEPARATION_S = 3.0 * 3600.0
#: A high water must stand this far above the lowest level on either side before the next
#: higher one (its topographic prominence): noise of a few cm does not make a tide.
MIN_PROMINENCE_M = 0.05


@dataclass(frozen=True, slots=True, eq=False)
class Extrema:
    """High and low waters, in time order, alternating.

    Attributes
    ----------
    times_s : (m,) UTC seconds since the Unix epoch
    heights_m : (m,) water level, m
    is_high : (m,) True for a high water, False for a low water
    """

    times_s: FloatArray
    heights_m: FloatArray
    is_high: BoolArray

    @property
    def high(self) -> tuple[FloatArray, FloatArray]:
        """Times (s) and heights (m) of the high waters."""
        return self.times_s[self.is_high], self.heights_m[self.is_high]

    @property
    def low(self) -> tuple[FloatArray, FloatArray]:
        """Times (s) and heights (m) of the low waters."""
        return self.times_s[~self.is_high], self.heights_m[~self.is_high]


def _window_max(h: FloatArray, start: IndexArray, stop: IndexArray) -> FloatArray:
    """Maximum of ``h[start:stop]`` for many windows at once (sparse table, O(n log n))."""
    levels = [h]
    while 2 ** len(levels) <= h.size:
        prev, width = levels[-1], 2 ** (len(levels) - 1)
        levels.append(np.maximum(prev[:-width], prev[width:]))
    length = np.maximum(stop - start, 1)
    j = np.floor(np.log2(length)).astype(np.intp)
    out = np.empty(start.size)
    for level in np.unique(j):  # one pass per power of two, not per sample
        sel = j == level
        table = levels[level]
        out[sel] = np.maximum(table[start[sel]], table[stop[sel] - 2**level])
    return out


def _high_water_candidates(t: FloatArray, h: FloatArray, min_separation_s: float) -> IndexArray:
    """Samples that are the highest within ``min_separation_s`` on either side."""
    inner = np.arange(1, h.size - 1)
    peak = inner[(h[inner] >= h[inner - 1]) & (h[inner] > h[inner + 1])]
    start = np.searchsorted(t, t[peak] - min_separation_s, side="left")
    stop = np.searchsorted(t, t[peak] + min_separation_s, side="right")
    peak = peak[h[peak] >= _window_max(h, start, stop)]
    too_close = np.diff(t[peak], prepend=-np.inf) < min_separation_s  # equal heights: keep first
    return peak[~too_close]


def _drop_shallow(h: FloatArray, peaks: IndexArray, min_prominence_m: float) -> IndexArray:
    """Drop the lower of two neighbouring high waters when the trough between them is shallow."""
    while peaks.size > 1:
        trough = np.minimum.reduceat(h, peaks)[:-1]
        lower = np.minimum(h[peaks[:-1]], h[peaks[1:]])
        shallow = lower - trough < min_prominence_m
        if not shallow.any():
            break
        left_lower = h[peaks[:-1]] <= h[peaks[1:]]
        drop = np.zeros(peaks.size, dtype=bool)
        drop[:-1] |= shallow & left_lower
        drop[1:] |= shallow & ~left_lower
        peaks = peaks[~drop]
    return peaks


def _segment_minima(h: FloatArray, bounds: IndexArray) -> IndexArray:
    """Index of the lowest sample strictly between consecutive ``bounds``."""
    n = h.size
    seg = np.searchsorted(bounds, np.arange(n), side="right")
    order = np.lexsort((h, seg))
    first = np.unique(seg[order], return_index=True)[1]
    lows = order[first]
    inside = ~np.isin(lows, bounds) & (lows > 0) & (lows < n - 1)
    return lows[inside]


def _refine(t: FloatArray, h: FloatArray, idx: IndexArray) -> tuple[FloatArray, FloatArray]:
    """Vertex of the parabola through each extremum and its two neighbours."""
    i = np.clip(idx, 1, h.size - 2)
    t0, t1, t2 = t[i - 1] - t[i], np.zeros(i.size), t[i + 1] - t[i]
    h0, h1, h2 = h[i - 1], h[i], h[i + 1]
    # Newton form of the interpolating parabola through (t0, h0), (0, h1), (t2, h2)
    d01 = (h1 - h0) / (t1 - t0)
    d12 = (h2 - h1) / t2
    curvature = (d12 - d01) / (t2 - t0)
    ok = (curvature != 0) & (idx == i)
    slope_at_0 = d01 + curvature * (0.0 - t0)
    shift = np.where(ok, -slope_at_0 / np.where(ok, 2 * curvature, 1.0), 0.0)
    shift = np.clip(shift, t0, t2)
    height = np.where(ok, h1 + slope_at_0 * shift + curvature * shift**2, h1)
    return t[i] + shift, height


def high_low_waters(
    times_s: FloatArray,
    values_m: FloatArray,
    *,
    min_separation_s: float = MIN_SEPARATION_S,
    min_prominence_m: float = MIN_PROMINENCE_M,
    refine: bool = True,
) -> Extrema:
    """High and low waters of a predicted or observed series.

    A high water is the highest sample within ``min_separation_s`` on either side that stands at
    least ``min_prominence_m`` above the troughs towards its neighbours; a low water is the
    lowest sample between two high waters, so a double low water gives one (the lower).

    Parameters
    ----------
    times_s : (n,) UTC seconds since the Unix epoch; any order; NaN samples are dropped
    values_m : (n,) water level, m
    min_separation_s : shortest time between high waters, s
    min_prominence_m : smallest rise from a trough to a high water, m
    refine : move each extremum to the vertex of the parabola through it and its neighbours
        (right for a smooth series such as a prediction; on noisy data it changes little)

    Returns
    -------
    Extrema in time order, high and low waters alternating.
    """
    t = np.asarray(times_s, dtype=np.float64)
    h = np.asarray(values_m, dtype=np.float64)
    if t.ndim != 1 or t.shape != h.shape:
        msg = f"times_s and values_m must be 1-D of the same shape, got {t.shape} and {h.shape}"
        raise ValueError(msg)
    keep = np.isfinite(t) & np.isfinite(h)
    order = np.argsort(t[keep], kind="stable")
    t, h = t[keep][order], h[keep][order]
    empty = np.empty(0)
    if h.size < 3:  # an extremum needs two neighbours
        return Extrema(empty, empty, np.empty(0, dtype=bool))
    highs = _high_water_candidates(t, h, min_separation_s)
    highs = _drop_shallow(h, highs, min_prominence_m)
    lows = _segment_minima(h, highs) if highs.size else np.empty(0, dtype=np.intp)
    idx = np.concatenate((highs, lows))
    is_high = np.concatenate((np.ones(highs.size, bool), np.zeros(lows.size, bool)))
    by_time = np.argsort(idx, kind="stable")
    idx, is_high = idx[by_time], is_high[by_time]
    when, height = _refine(t, h, idx) if refine else (t[idx], h[idx])
    return Extrema(when, height, is_high)
