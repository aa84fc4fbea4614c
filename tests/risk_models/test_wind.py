"""Beaufort forces and CMA typhoon/gale signals (DOMAIN.md §2)."""

import numpy as np
import pytest

from risk_models.types import UNKNOWN
from risk_models.wind import beaufort, gale_signal_level, typhoon_signal_level
from sensors.ndbc import parse_stdmet
from tests.helpers import REFERENCE


def test_beaufort_upper_bounds_are_inclusive() -> None:
    """A speed equal to a force's upper bound belongs to that force."""
    v = np.array([0.0, 0.2, 0.3, 10.7, 10.8, 17.1, 17.2, 32.6, 32.7, 56.0, 61.2, 61.3, 90.0])
    assert beaufort(v).tolist() == [0, 0, 1, 5, 6, 7, 8, 11, 12, 16, 17, 17, 17]


def test_beaufort_missing_and_negative() -> None:
    """NaN gives UNKNOWN; a negative speed is a caller mistake."""
    assert beaufort(np.array([np.nan])).tolist() == [UNKNOWN]
    with pytest.raises(ValueError, match="wind_mps"):
        beaufort(np.array([-1.0]))


def test_typhoon_signal_mean_or_gust() -> None:
    """Blue at mean force 6 (10.8 m/s) or gust force 8 (17.2 m/s); red at 12 or 14."""
    mean = np.array([10.7, 10.8, 5.0, 17.2, 24.5, 32.7, 5.0])
    gust = np.array([17.1, 12.0, 17.2, 20.0, 30.0, 35.0, 41.5])
    assert typhoon_signal_level(mean, gust).tolist() == [0, 1, 1, 2, 3, 4, 4]


def test_gale_signal_gust_one_force_above_mean() -> None:
    """Gale gust thresholds are one force above the mean: gust force 7 (13.9 m/s) is blue."""
    assert gale_signal_level(np.array([5.0]), np.array([13.9])).tolist() == [1]
    assert gale_signal_level(np.array([5.0]), np.array([13.8])).tolist() == [0]
    assert gale_signal_level(np.array([32.7]), np.array([np.nan])).tolist() == [4]


def test_missing_gust_uses_mean_and_both_missing_is_unknown() -> None:
    """A known input decides; UNKNOWN only when both are missing."""
    level = typhoon_signal_level(np.array([np.nan, 17.2, np.nan]), np.array([np.nan, np.nan, 24.5]))
    assert level.tolist() == [UNKNOWN, 2, 2]


def test_scalar_inputs_broadcast() -> None:
    """Scalars broadcast against arrays."""
    assert typhoon_signal_level(11.0, np.array([0.0, 45.0])).tolist() == [1, 4]


def test_sandy_wind_at_44005_gives_gale_yellow() -> None:
    """Sandy at 44005: WSPD 17.7 m/s (force 8), GST 22.5 m/s (force 9): gale yellow, typhoon yellow."""
    met = parse_stdmet((REFERENCE / "ndbc_44005_2012_stdmet.txt").read_text(encoding="ascii"))
    gale = gale_signal_level(met.wspd_mps, met.gst_mps)
    typhoon = typhoon_signal_level(met.wspd_mps, met.gst_mps)
    assert gale.max() == 2
    assert typhoon.max() == 2
    both_missing = np.isnan(met.wspd_mps) & np.isnan(met.gst_mps)
    assert ((gale == UNKNOWN) == both_missing).all()
