"""Pure numerics of marine_watch: tide, surge, waves, wind, overtopping, red tide and levels.

Only stdlib, numpy and scipy; no I/O, no clock, no settings. Times are UTC, as seconds since the
Unix epoch (float64) unless a name says otherwise. The modules are the API::

    from risk_models import tide, surge
    constants = tide.fit(times_s, level_m, lat=30.6)
    level = surge.surge_level(tide.predict(constants, times_s) + residual_m, thresholds)
"""

from risk_models import levels, overtopping, redtide, surge, tide, waves, wind
from risk_models.types import COLOURS, UNKNOWN, FloatArray, Hazard, IntArray, Level, Thresholds

__all__ = [
    "COLOURS",
    "UNKNOWN",
    "FloatArray",
    "Hazard",
    "IntArray",
    "Level",
    "Thresholds",
    "levels",
    "overtopping",
    "redtide",
    "surge",
    "tide",
    "waves",
    "wind",
]
