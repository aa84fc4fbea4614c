"""Properties of the tide and surge numerics (Hypothesis)."""

import random

import hypothesis.strategies as st
import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis.extra.numpy import arrays

from risk_models import surge, tide
from risk_models.types import FloatArray, Thresholds

FEW = settings(max_examples=20)  # each example fits a month of hourly tide

NAMES = ("M2", "S2", "N2", "K1", "O1", "M4")
SAMPLE_LEVELS = Thresholds(blue=4.45, yellow=4.75, orange=5.10, red=5.40)  # SAMPLE, DOMAIN §1.5
T0 = 1.3e9

amplitudes = arrays(np.float64, len(NAMES), elements=st.floats(0.0, 3.0))
phases = arrays(np.float64, len(NAMES), elements=st.floats(0.0, 359.99))
means = st.floats(-5.0, 5.0)
lats = st.floats(-70.0, 70.0)
starts = st.floats(0.0, 1.5e9)
water_m = arrays(np.float64, st.integers(1, 200), elements=st.floats(-3, 12))


def constants(lat: float, mean: float, amp: FloatArray, phase: FloatArray) -> tide.TideConstants:
    return tide.TideConstants(lat, mean, NAMES, amp, phase)


@FEW
@given(lats, means, amplitudes, phases, starts)
def test_fit_of_a_prediction_returns_the_constants(
    lat: float, mean: float, amp: FloatArray, phase: FloatArray, start: float
) -> None:
    """fit(predict(c)) = c on a noise-free 40-day hourly series."""
    c = constants(lat, mean, amp, phase)
    t = start + 3600.0 * np.arange(40 * 24, dtype=np.float64)
    got = tide.fit(t, tide.predict(c, t), lat, constituents=NAMES)
    np.testing.assert_allclose(got.amplitude_m, amp, atol=1e-7)
    big = amp > 1e-3
    dg = (got.phase_deg - phase + 180) % 360 - 180
    np.testing.assert_allclose(dg[big], 0.0, atol=1e-3)
    assert abs(got.mean_m - mean) < 1e-7


@FEW
@given(lats, means, starts)
def test_zero_amplitudes_predict_the_mean(lat: float, mean: float, start: float) -> None:
    """Without tide the prediction is the mean everywhere."""
    c = constants(lat, mean, np.zeros(len(NAMES)), np.zeros(len(NAMES)))
    t = start + 977.0 * np.arange(100, dtype=np.float64)
    np.testing.assert_allclose(tide.predict(c, t), mean, atol=1e-12)


@FEW
@given(lats, means, amplitudes, phases, st.integers(-3, 3))
def test_adding_full_turns_to_phases_changes_nothing(
    lat: float, mean: float, amp: FloatArray, phase: FloatArray, turns: int
) -> None:
    """A phase + 360 degrees gives the same tide."""
    t = T0 + 1800.0 * np.arange(200, dtype=np.float64)
    a = tide.predict(constants(lat, mean, amp, phase), t)
    b = tide.predict(constants(lat, mean, amp, phase + 360.0 * turns), t)
    np.testing.assert_allclose(a, b, atol=1e-9)


@FEW
@given(lats, amplitudes, phases, st.randoms(use_true_random=False))
def test_sample_order_does_not_matter(
    lat: float, amp: FloatArray, phase: FloatArray, rnd: random.Random
) -> None:
    """Shuffling the samples gives the same fit and a prediction that follows the times."""
    t = T0 + 3600.0 * np.arange(30 * 24, dtype=np.float64)
    h = tide.predict(constants(lat, 0.1, amp, phase), t) + np.sin(t / 7e4) * 0.05
    perm = list(range(t.size))
    rnd.shuffle(perm)
    order = np.array(perm)
    a = tide.fit(t, h, lat, constituents=NAMES)
    b = tide.fit(t[order], h[order], lat, constituents=NAMES)
    np.testing.assert_allclose(a.amplitude_m, b.amplitude_m, atol=1e-9)
    # 1e-9 m: regular times take the block-wise path, shuffled ones the general basis
    np.testing.assert_allclose(tide.predict(a, t)[order], tide.predict(a, t[order]), atol=1e-9)


@FEW
@given(lats, amplitudes, phases, arrays(np.bool_, 30 * 24))
def test_nan_samples_are_dropped(
    lat: float, amp: FloatArray, phase: FloatArray, missing: npt.NDArray[np.bool_]
) -> None:
    """NaN values are ignored by the fit; a NaN time predicts NaN."""
    c = constants(lat, 0.2, amp, phase)
    t = T0 + 3600.0 * np.arange(30 * 24, dtype=np.float64)
    h = tide.predict(c, t)
    if (~missing).sum() > 400:
        got = tide.fit(t, np.where(missing, np.nan, h), lat, constituents=NAMES)
        np.testing.assert_allclose(got.amplitude_m, amp, atol=1e-6)
    assert np.isnan(tide.predict(c, np.where(missing, np.nan, t))[missing]).all()


@FEW
@given(lats, means, amplitudes, phases)
def test_surge_of_a_prediction_against_itself_is_zero(
    lat: float, mean: float, amp: FloatArray, phase: FloatArray
) -> None:
    """Residual and skew surge of the tide against itself are 0."""
    t = T0 + 600.0 * np.arange(5 * 144, dtype=np.float64)
    p = tide.predict(constants(lat, mean, amp, phase), t)
    assert (surge.residual(p, p) == 0).all()
    assert np.allclose(surge.skew_surge(t, p, p).skew_surge_m, 0.0, atol=1e-3)


@FEW
@given(water_m, st.floats(0, 5))
def test_raising_the_water_never_lowers_the_level(h: FloatArray, rise_m: float) -> None:
    """The surge level is monotonic in water level."""
    assert (
        surge.surge_level(h + rise_m, SAMPLE_LEVELS) >= surge.surge_level(h, SAMPLE_LEVELS)
    ).all()


@FEW
@given(arrays(np.float64, st.integers(0, 100), elements=st.floats(allow_infinity=False)))
def test_levels_stay_within_unknown_to_red(h: FloatArray) -> None:
    """Levels are -1 (NaN only) or 0..4, with the input's shape."""
    level = surge.surge_level(h, SAMPLE_LEVELS)
    assert level.shape == h.shape
    assert ((level >= -1) & (level <= 4)).all()
    assert ((level == -1) == np.isnan(h)).all()
