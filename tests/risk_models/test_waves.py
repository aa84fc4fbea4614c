"""Wave levels (DOMAIN.md §1.6, current criteria) and wave quantities."""

import math

import numpy as np
import pytest

from risk_models.types import UNKNOWN
from risk_models.waves import (
    Exposure,
    breaker_parameter,
    deep_water_wavelength_m,
    tm10_from_tp,
    wave_level,
    wave_steepness,
)
from sensors.ndbc import parse_stdmet
from tests.helpers import REFERENCE


def test_nearshore_bulletins_fit_current_table() -> None:
    """Upper ends of the Lekima/In-Fa/Talim ranges give the bulletin colours (4.0 yellow, 4.5/5 orange, 6 red)."""
    hs_m = np.array([3.0, 4.0, 4.5, 4.8, 5.0, 6.0, 3.5])
    assert wave_level(hs_m, "nearshore").tolist() == [1, 2, 3, 3, 3, 4, 2]


def test_not_the_legacy_table() -> None:
    """3-4 m nearshore is yellow, not orange as under the legacy table."""
    assert wave_level(np.array([4.0]), Exposure.NEARSHORE).tolist() == [2]


def test_offshore_table() -> None:
    """Offshore 8-12 m and 6-9 m both gave orange for Talim 2017 (upper ends 12 and 9)."""
    hs_m = np.array([4.4, 4.5, 6.0, 9.0, 12.0, 14.0])
    assert wave_level(hs_m, "offshore").tolist() == [0, 1, 2, 3, 3, 4]


def test_missing_wave_height_is_unknown() -> None:
    """NaN Hs gives UNKNOWN."""
    assert wave_level(np.array([np.nan]), "nearshore").tolist() == [UNKNOWN]


def test_caller_mistakes_raise() -> None:
    """An unknown exposure or a negative height is refused."""
    with pytest.raises(ValueError, match="exposure"):
        wave_level(np.array([1.0]), "lagoon")
    with pytest.raises(ValueError, match="hs_m"):
        wave_level(np.array([-1.0]), "nearshore")


def test_tm10_from_tp() -> None:
    """Tm-1,0 = Tp/1.1."""
    assert tm10_from_tp(11.0) == pytest.approx(10.0)


def test_wavelength_steepness_and_breaker_parameter_case_1() -> None:
    """DOMAIN.md §4.6(a): T = 5 s gives L = 39.0327 m, s = 0.051239, ξ = 1.4726 at 1:3."""
    assert deep_water_wavelength_m(5.0) == pytest.approx(9.81 * 25 / (2 * math.pi))
    assert deep_water_wavelength_m(5.0) == pytest.approx(39.0327, abs=1e-4)
    assert wave_steepness(2.0, 5.0) == pytest.approx(0.051239, abs=1e-6)
    assert breaker_parameter(1 / 3, 2.0, 5.0) == pytest.approx(1.4726, abs=1e-4)


def test_sandy_peak_wave_height_and_colours() -> None:
    """NDBC 44005 peaks at WVHT 8.65 m at 2012-10-30 04:50Z: red nearshore, yellow offshore."""
    met = parse_stdmet((REFERENCE / "ndbc_44005_2012_stdmet.txt").read_text(encoding="ascii"))
    i = int(np.nanargmax(met.wvht_m))
    assert met.wvht_m[i] == 8.65
    assert met.times_s[i] == float(np.datetime64("2012-10-30T04:50", "s").astype(np.int64))
    assert (met.dpd_s[i], met.apd_s[i]) == (11.43, 9.45)
    assert wave_level(met.wvht_m[i : i + 1], "nearshore").tolist() == [4]
    assert wave_level(met.wvht_m[i : i + 1], "offshore").tolist() == [2]
    levels = wave_level(met.wvht_m, "nearshore")
    assert levels.shape == met.wvht_m.shape
    assert set(np.unique(levels).tolist()) <= {UNKNOWN, 0, 1, 2, 3, 4}
    assert (levels == UNKNOWN).sum() == np.isnan(met.wvht_m).sum()
