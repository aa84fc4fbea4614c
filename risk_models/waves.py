"""Wave heights to warning levels, and the wave quantities the overtopping formulas need.

Levels follow the current (2015 revision onward) criteria of the national wave plan, DOMAIN.md
§1.6. The legacy 2005/2012 table (yellow at 2.5 m, orange at 4.0 m nearshore) is *not* used.
"""

import math
from enum import StrEnum

import numpy as np

from risk_models.levels import classify
from risk_models.types import FloatArray, IntArray, Thresholds

__all__ = [
    "G_MPS2",
    "NEARSHORE_HS_M",
    "OFFSHORE_HS_M",
    "TP_OVER_TM10",
    "Exposure",
    "breaker_parameter",
    "deep_water_wavelength_m",
    "tm10_from_tp",
    "wave_level",
    "wave_steepness",
]

#: Gravity, m/s2; the value EurOtop (2018) and its reference toolbox use.
G_MPS2 = 9.81

#: Nearshore waters (近岸海域), Hs lower bounds blue..red in m. [X-CHECK] DOMAIN.md §1.6:
#: checked against the Lekima 2019, In-Fa 2021 and Talim 2017 bulletins.
NEARSHORE_HS_M = Thresholds(blue=2.5, yellow=3.5, orange=4.5, red=6.0)

#: Offshore forecast waters (近海预报海域), Hs lower bounds blue..red in m. [RECALLED] DOMAIN.md
#: §1.6 (orange consistent with the Talim 2017 bulletin); check against the current plan text.
OFFSHORE_HS_M = Thresholds(blue=4.5, yellow=6.0, orange=9.0, red=14.0)

#: Tp / Tm-1,0 for a single-peaked spectrum. [RECALLED] EurOtop (2018) §4.1 via DOMAIN.md §4.1.
TP_OVER_TM10 = 1.1


class Exposure(StrEnum):
    """Which wave table a buoy or forecast point belongs to (tagged in config)."""

    NEARSHORE = "nearshore"
    OFFSHORE = "offshore"


_TABLES = {Exposure.NEARSHORE: NEARSHORE_HS_M, Exposure.OFFSHORE: OFFSHORE_HS_M}


def _non_negative(name: str, x: FloatArray | float) -> FloatArray:
    """Return ``x`` as float64, refusing negative values (NaN passes through)."""
    a = np.asarray(x, dtype=np.float64)
    if np.any(a < 0):
        msg = f"{name} must be >= 0, got a minimum of {np.nanmin(a)}"
        raise ValueError(msg)
    return a


def wave_level(
    hs_m: FloatArray, exposure: Exposure | str, *, thresholds: Thresholds | None = None
) -> IntArray:
    """Warning level from significant wave height.

    Parameters
    ----------
    hs_m : (...) significant wave height (spectral Hm0 or buoy H1/3), m; NaN for missing.
    exposure : "nearshore" or "offshore"; selects the table of DOMAIN.md §1.6.
    thresholds : override of the table (e.g. from config), m.

    Returns
    -------
    (...) int8 levels 0..4 (``Hs >= bound``), UNKNOWN (-1) where ``hs_m`` is NaN.

    Raises
    ------
    ValueError
        If ``exposure`` is not a known table or ``hs_m`` is negative.
    """
    try:
        table = _TABLES[Exposure(exposure)]
    except ValueError:
        msg = f"exposure must be 'nearshore' or 'offshore', got {exposure!r}"
        raise ValueError(msg) from None
    return classify(_non_negative("hs_m", hs_m), table if thresholds is None else thresholds)


def tm10_from_tp(tp_s: FloatArray | float) -> FloatArray:
    """Spectral period Tm-1,0 from the peak period.

    Parameters
    ----------
    tp_s : (...) peak period Tp, s.

    Returns
    -------
    (...) Tm-1,0 = Tp / 1.1, s. [RECALLED] EurOtop (2018) rule for single-peaked spectra;
    do not use it for bimodal seas (swell plus wind sea).
    """
    return _non_negative("tp_s", tp_s) / TP_OVER_TM10


def deep_water_wavelength_m(period_s: FloatArray | float) -> FloatArray:
    """Deep-water wavelength L = g·T²/(2π).

    Parameters
    ----------
    period_s : (...) wave period, s (Tm-1,0 gives EurOtop's Lm-1,0).

    Returns
    -------
    (...) wavelength, m. Source: linear wave theory; EurOtop (2018) §1.4 / DOMAIN.md §4.1.
    """
    t = _non_negative("period_s", period_s)
    return G_MPS2 * t**2 / (2.0 * math.pi)


def wave_steepness(hm0_m: FloatArray | float, tm10_s: FloatArray | float) -> FloatArray:
    """Wave steepness sm-1,0 = Hm0 / Lm-1,0.

    Parameters
    ----------
    hm0_m : (...) spectral significant wave height, m.
    tm10_s : (...) spectral period Tm-1,0, s (broadcasts against ``hm0_m``).

    Returns
    -------
    (...) dimensionless steepness; inf where the period is 0. Source: EurOtop (2018) §1.4.
    """
    with np.errstate(divide="ignore"):
        return _non_negative("hm0_m", hm0_m) / deep_water_wavelength_m(tm10_s)


def breaker_parameter(
    tan_alpha: FloatArray | float, hm0_m: FloatArray | float, tm10_s: FloatArray | float
) -> FloatArray:
    """Breaker (Iribarren) parameter ξm-1,0 = tanα / √sm-1,0.

    Parameters
    ----------
    tan_alpha : (...) seaward slope tanα.
    hm0_m : (...) spectral significant wave height at the toe, m.
    tm10_s : (...) spectral period Tm-1,0, s.

    Returns
    -------
    (...) dimensionless ξm-1,0. Source: EurOtop (2018) §1.4 / DOMAIN.md §4.1.
    """
    with np.errstate(divide="ignore"):
        return _non_negative("tan_alpha", tan_alpha) / np.sqrt(wave_steepness(hm0_m, tm10_s))
