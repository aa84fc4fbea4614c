"""Storm surge: residual, skew surge, forecast high water and warning levels."""

import numpy as np
import pytest

from risk_models import surge, tide
from risk_models.types import UNKNOWN, Thresholds

SAMPLE_LEVELS = Thresholds(
    blue=4.45, yellow=4.75, orange=5.10, red=5.40
)  # Zhapu SAMPLE, DOMAIN §1.5


def test_level_is_the_highest_colour_reached() -> None:
    """A high water at a warning tide level reaches that colour (DOMAIN.md §1.3, ``>=``)."""
    hw = np.array([4.0, 4.45, 4.74, 4.75, 5.10, 5.39, 5.40, 9.0])
    assert surge.surge_level(hw, SAMPLE_LEVELS).tolist() == [0, 1, 1, 2, 3, 3, 4, 4]


def test_missing_high_water_is_unknown_not_none() -> None:
    """NaN gives UNKNOWN (-1), never a silent 0."""
    assert surge.surge_level(np.array([np.nan]), SAMPLE_LEVELS).tolist() == [UNKNOWN]


def test_legacy_rule_steps_at_minus_30_0_30_80_cm() -> None:
    """Legacy single-level rule: W-30 blue, W yellow, W+30 orange, W+80 red (DOMAIN.md §1.3)."""
    w = 5.0
    hw = np.array([4.69, 4.70, 4.99, 5.00, 5.29, 5.30, 5.79, 5.80, np.nan])
    assert surge.legacy_single_level(hw, w).tolist() == [0, 1, 1, 2, 2, 3, 3, 4, -1]


def test_residual_rejects_different_shapes() -> None:
    """Observed and predicted must line up."""
    with pytest.raises(ValueError, match="same shape"):
        surge.residual(np.zeros(3), np.zeros(4))


def test_forecast_takes_the_higher_surge_and_says_which() -> None:
    """External forecast wins only when higher than persistence (DOMAIN.md §5.1)."""
    out = surge.forecast_high_water(
        np.array([0.0, 1.0]),
        np.array([2.0, 2.0]),
        np.array([0.1, 0.3, np.nan]),
        external_surge_m=np.array([0.5, 0.0]),
    )
    np.testing.assert_allclose(out.surge_m, [0.5, 0.2])
    np.testing.assert_allclose(out.high_water_m, [2.5, 2.2])
    assert out.source == (surge.SurgeSource.EXTERNAL, surge.SurgeSource.PERSISTENCE)


def test_skew_surge_of_a_synthetic_storm() -> None:
    """A 1 m bump on one high water shows as a 1 m skew surge of that cycle only."""
    t = np.arange(0, 10 * 86400, 600.0) + 1.2e9
    c = tide.TideConstants(51.0, 0.0, ("M2",), np.array([2.0]), np.array([0.0]))
    pred = tide.predict(c, t)
    hw_t, _ = tide.high_low_waters(t, pred).high
    bump = np.exp(-0.5 * ((t - hw_t[5]) / 7200.0) ** 2)
    s = surge.skew_surge(t, pred + bump, pred)
    assert np.argmax(s.skew_surge_m) == 5
    assert s.skew_surge_m[5] == pytest.approx(1.0, abs=0.01)
    assert np.nanmax(np.abs(np.delete(s.skew_surge_m, [4, 5, 6]))) < 0.01
