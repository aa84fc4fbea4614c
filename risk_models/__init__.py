"""Pure numerics of marine_watch: tide, surge, waves, wind, overtopping, red tide and levels.

Only stdlib, numpy and scipy; no I/O, no clock, no settings. Times are UTC, as seconds since the
Unix epoch (float64) unless a name says otherwise.
"""

from risk_models.types import COLOURS, UNKNOWN, FloatArray, Hazard, IntArray, Level, Thresholds

__all__ = ["COLOURS", "UNKNOWN", "FloatArray", "Hazard", "IntArray", "Level", "Thresholds"]
