"""Red-tide SAMPLE rule (DOMAIN.md §3.3) and persistence."""

import numpy as np
import pytest

from risk_models.redtide import SAMPLE_RULE, persistent_level, red_tide_level
from risk_models.types import UNKNOWN


def test_chlorophyll_bounds() -> None:
    """chl-a 10 / 20 / 40 / 80 µg/L give blue / yellow / orange / red; NaN is unknown."""
    chla = np.array([5.0, 10.0, 20.0, 40.0, 80.0, np.nan])
    assert red_tide_level(chla).tolist() == [0, 1, 2, 3, 4, UNKNOWN]


def test_low_oxygen_escalates_yellow_to_orange_only() -> None:
    """DO < 4 mg/L makes yellow orange, but leaves blue blue."""
    chla = np.array([25.0, 12.0, 25.0])
    do = np.array([3.9, 3.9, 4.0])
    assert red_tide_level(chla, do_mgl=do).tolist() == [3, 1, 2]


def test_very_low_oxygen_or_toxic_cells_is_red() -> None:
    """DO < 3 mg/L or toxic cells at the reference density give red, even without chl-a."""
    chla = np.array([1.0, np.nan, 1.0, 1.0])
    do = np.array([2.9, 2.5, 6.0, 6.0])
    cells = np.array([0.0, 0.0, 500.0, 499.0])
    found = red_tide_level(
        chla, do_mgl=do, toxic_cells_per_l=cells, toxic_reference_cells_per_l=500.0
    )
    assert found.tolist() == [4, 4, 4, 0]


def test_ph_and_supersaturation_raise_one_level_capped() -> None:
    """pH > 8.6 with DO saturation > 130 % raises one level, never above red."""
    chla = np.array([12.0, 90.0, 12.0, 12.0])
    ph = np.array([8.7, 8.7, 8.6, 8.7])
    sat = np.array([135.0, 135.0, 135.0, 130.0])
    assert red_tide_level(chla, ph=ph, do_saturation_pct=sat).tolist() == [2, 4, 1, 1]


def test_rule_is_sample_data() -> None:
    """The default thresholds are the DOMAIN.md §8 SAMPLE values."""
    assert SAMPLE_RULE.chla_ugl.as_tuple() == (10.0, 20.0, 40.0, 80.0)
    assert SAMPLE_RULE.persistence_h == 2


def test_persistence_delays_rises_not_falls() -> None:
    """A level shows after two consecutive hours; a single-hour spike is ignored."""
    hourly = np.array([0, 3, 0, 2, 2, 2, 1], dtype=np.int8)
    assert persistent_level(hourly, 2).tolist() == [UNKNOWN, 0, 0, 0, 2, 2, 1]
    assert persistent_level(hourly, 1).tolist() == hourly.tolist()


def test_persistence_unknown_breaks_the_window() -> None:
    """An unknown hour makes the persistent level unknown until two known hours follow."""
    hourly = np.array([[2, UNKNOWN, 2, 2]], dtype=np.int8)
    assert persistent_level(hourly, 2).tolist() == [[UNKNOWN, UNKNOWN, UNKNOWN, 2]]
    with pytest.raises(ValueError, match="hours"):
        persistent_level(hourly, 0)
