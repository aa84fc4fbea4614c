"""Levels: classification against four bounds, combination over hazards, explanations."""

import numpy as np
import pytest

from risk_models.levels import (
    Explanation,
    classify,
    classify_hazards,
    colours,
    combine,
    combine_with_unknown,
    explain,
)
from risk_models.types import UNKNOWN, Hazard, Level, Thresholds

NEARSHORE_HS = Thresholds(2.5, 3.5, 4.5, 6.0)


def test_level_counts_bounds_reached_with_ge() -> None:
    """A value equal to a bound reaches it ("达到或超过")."""
    hs_m = np.array([0.0, 2.49, 2.5, 3.5, 4.49, 4.5, 6.0, 20.0])
    assert classify(hs_m, NEARSHORE_HS).tolist() == [0, 0, 1, 2, 2, 3, 4, 4]


def test_nan_value_is_unknown_not_none() -> None:
    """Missing data gives UNKNOWN (-1), never level 0."""
    assert classify(np.array([np.nan, 1.0]), NEARSHORE_HS).tolist() == [UNKNOWN, 0]


def test_result_is_int8_and_keeps_shape() -> None:
    """Levels come back as int8 in the shape of the values."""
    out = classify(np.zeros((3, 2)), NEARSHORE_HS)
    assert out.dtype == np.int8
    assert out.shape == (3, 2)


def test_per_location_thresholds() -> None:
    """Each location can carry its own four bounds; an all-NaN row means no bounds: unknown."""
    bounds = np.array([[1.0, 2, 3, 4], [10, 20, 30, 40], [np.nan] * 4])
    assert classify(np.array([3.0, 3.0, 3.0]), bounds).tolist() == [3, 0, UNKNOWN]


@pytest.mark.parametrize(
    "bounds",
    [np.array([[1.0, 1, 3, 4]]), np.array([[1.0, 2, 3]]), np.array([[1.0, np.nan, 3, 4]])],
)
def test_bad_thresholds_raise(bounds: np.ndarray) -> None:
    """Bounds that do not rise strictly, or lack a colour, are a caller mistake."""
    with pytest.raises(ValueError, match="thresholds"):
        classify(np.array([1.0]), bounds)


def test_thresholds_of_wrong_length_raise() -> None:
    """Per-location bounds must match the number of values."""
    with pytest.raises(ValueError, match="do not fit"):
        classify(np.zeros(3), np.tile([1.0, 2, 3, 4], (2, 1)))


def test_classify_hazards_per_column() -> None:
    """Each hazard column is classified against its own bounds."""
    values = np.array([[3.0, 30.0], [np.nan, 5.0]])
    bounds = np.array([[1.0, 2, 3, 4], [10, 20, 30, 40]])
    assert classify_hazards(values, bounds).tolist() == [[3, 3], [UNKNOWN, 0]]


def test_classify_hazards_rejects_mismatch() -> None:
    """The hazard axis of values and bounds must agree."""
    with pytest.raises(ValueError, match="expected values"):
        classify_hazards(np.zeros((2, 3)), np.tile([1.0, 2, 3, 4], (2, 1)))


def test_combine_known_max_wins_over_unknown() -> None:
    """The combined level is the highest known one; UNKNOWN only if all are unknown."""
    levels = np.array([[UNKNOWN, 2, 0], [UNKNOWN, UNKNOWN, UNKNOWN], [0, 0, 0]], dtype=np.int8)
    assert combine(levels).tolist() == [2, UNKNOWN, 0]
    level, any_unknown = combine_with_unknown(levels)
    assert level.tolist() == [2, UNKNOWN, 0]
    assert any_unknown.tolist() == [True, True, False]


def test_colours_words() -> None:
    """Level codes map to colour words, unknown included."""
    assert colours(np.array([-1, 0, 1, 2, 3, 4])).tolist() == [
        "unknown",
        "none",
        "blue",
        "yellow",
        "orange",
        "red",
    ]
    with pytest.raises(ValueError, match="levels"):
        colours(np.array([5]))


def test_explain_gives_reached_and_next_bound() -> None:
    """The explanation names the bound reached, the next one and the margin to it."""
    e = explain(Hazard.WAVES, "44005", 4.0, "m", NEARSHORE_HS, peak_time_s=1.0, source="DOMAIN 1.6")
    assert e.level == Level.YELLOW
    assert e.threshold == 3.5
    assert e.next_threshold == 4.5
    assert e.margin == pytest.approx(0.5)
    d = e.to_dict()
    assert d["colour"] == "yellow"
    assert d["hazard"] == "waves"


def test_explain_red_has_no_next_bound() -> None:
    """Above red there is nothing further to reach."""
    e = explain(Hazard.WAVES, "x", 8.65, "m", NEARSHORE_HS)
    assert (e.level, e.threshold, e.next_threshold, e.margin) == (Level.RED, 6.0, None, None)


def test_explain_missing_value_is_unknown() -> None:
    """A missing value is explained as unknown, not as none."""
    e = explain(Hazard.WIND, "x", float("nan"), "m/s", NEARSHORE_HS)
    assert isinstance(e, Explanation)
    assert e.level is None
    assert e.to_dict()["level"] == UNKNOWN
    assert e.to_dict()["colour"] == "unknown"
