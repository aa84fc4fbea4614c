"""Storm surge: residual, skew surge, forecast high water and warning levels."""

import numpy as np
import pytest

from risk_models import surge, tide
from risk_models.types import UNKNOWN, Thresholds
from tests.risk_models.test_tide import STATIONS, load_series, utc_s

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


# --- real storms -------------------------------------------------------------------------------


def fitted_residual(
    station: str, start: str, end: str, series: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit the station over [start, end) and return times, observed, predicted and residual."""
    file, column, scale, lat = STATIONS[station]
    t, h = load_series(file, column, scale)
    keep = (t >= utc_s(start)) & (t < utc_s(end))
    constants = tide.fit(t[keep], h[keep], lat)
    if series is not None:
        t, h = series
    pred = tide.predict(constants, t)
    return t, h, pred, surge.residual(h, pred)


def peak(t: np.ndarray, values: np.ndarray, start: str, end: str) -> tuple[str, float]:
    inside = (t >= utc_s(start)) & (t < utc_s(end))
    i = np.nanargmax(np.where(inside, values, np.nan))
    return str(np.datetime64(int(t[i]), "s")), float(values[i])


def test_hurricane_juan_halifax_2003() -> None:
    """Juan: residual about 1.5 m at 04:00Z on 29 Sep 2003, the record's largest skew surge."""
    t, h, pred, res = fitted_residual("halifax", "2003-01-01", "2003-09-01")
    when, size = peak(t, res, "2003-09-28", "2003-10-01")
    assert when.startswith("2003-09-29T0")
    assert 1.4 < size < 1.7
    skew = surge.skew_surge(t, h, pred)
    j = np.nanargmax(skew.skew_surge_m)
    assert str(np.datetime64(int(skew.observed_high_times_s[j]), "s")) == "2003-09-29T04:00:00"
    assert skew.observed_high_m[j] == pytest.approx(2.84)
    assert 0.9 < skew.skew_surge_m[j] < 1.4


def test_vlissingen_storm_of_5_january_2012() -> None:
    """Residual of about 1.8 m on 5 Jan 2012 against a 2009-2011 fit."""
    t, h, pred, res = fitted_residual("vlissingen", "2009-01-01", "2012-01-01")
    when, size = peak(t, res, "2012-01-01", "2012-02-01")
    assert when.startswith("2012-01-05")
    assert 1.5 < size < 2.1
    skew = surge.skew_surge(t, h, pred)
    in_jan = (skew.times_s >= utc_s("2012-01-04")) & (skew.times_s < utc_s("2012-01-07"))
    assert np.nanmax(skew.skew_surge_m[in_jan]) > 0.8


def test_vlissingen_storm_of_3_january_2018_10min() -> None:
    """3 Jan 2018: 3.60 m at 13:30Z on 10-min data with gaps; the largest skew surge of Q1."""
    obs = load_series("tide_vlissingen_2018q1_10min_matroos.csv", "water_level_m", 1.0)
    t, h, pred, _ = fitted_residual("vlissingen", "2009-01-01", "2013-01-01", series=obs)
    skew = surge.skew_surge(t, h, pred)
    j = np.nanargmax(skew.skew_surge_m)
    assert str(np.datetime64(int(skew.observed_high_times_s[j]), "s")) == "2018-01-03T13:30:00"
    assert skew.observed_high_m[j] == pytest.approx(3.60)
    assert 0.9 < skew.skew_surge_m[j] < 1.6
    assert surge.surge_level(np.array([3.60]), Thresholds(2.5, 3.0, 3.5, 4.0)).tolist() == [3]


def test_hoek_van_holland_storm_of_1_february_1983() -> None:
    """1-2 Feb 1983: residual peak of 1.6-2.0 m (README), high water 262 cm NAP at 05:00Z."""
    t, h, pred, res = fitted_residual("hoekvanholland", "1983-01-01", "1984-01-01")
    when, size = peak(t, res, "1983-01-31", "1983-02-03")
    assert when.startswith(("1983-02-01", "1983-02-02"))
    assert 1.5 < size < 2.1
    skew = surge.skew_surge(t, h, pred)
    j = np.nanargmax(np.where(skew.times_s < utc_s("1983-03-01"), skew.skew_surge_m, np.nan))
    assert str(np.datetime64(int(skew.observed_high_times_s[j]), "s")) == "1983-02-02T05:00:00"
    assert skew.observed_high_m[j] == pytest.approx(2.62)
