"""Properties of the hazard levels and overtopping: monotonic, bounded, NaN-honest, shape-keeping."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from risk_models.levels import classify, combine
from risk_models.overtopping import slope_discharge
from risk_models.overtopping_walls import overtopping_level, wall_discharge
from risk_models.redtide import red_tide_level
from risk_models.types import UNKNOWN, FloatArray, Thresholds
from risk_models.waves import wave_level
from risk_models.wind import gale_signal_level, typhoon_signal_level

SURGE_M = Thresholds(4.45, 4.75, 5.10, 5.40)  # Zhapu SAMPLE warning tide levels (DOMAIN.md §1.5)
sizes = st.integers(1, 50)
water_m = arrays(np.float64, sizes, elements=st.floats(-3, 12))
hs_m = arrays(np.float64, sizes, elements=st.floats(0, 20))
wind_mps = arrays(np.float64, sizes, elements=st.floats(0, 80))
with_nan = arrays(np.float64, sizes, elements=st.floats(0, 20) | st.just(np.nan))


@given(water_m, st.floats(0, 5))
def test_raising_the_water_never_lowers_the_level(h: FloatArray, rise_m: float) -> None:
    """The level is monotonic in water level."""
    assert (classify(h + rise_m, SURGE_M) >= classify(h, SURGE_M)).all()


@given(hs_m, st.floats(0, 5), st.sampled_from(["nearshore", "offshore"]))
def test_higher_waves_never_lower_the_level(hs: FloatArray, rise_m: float, exposure: str) -> None:
    """The wave level is monotonic in Hs."""
    assert (wave_level(hs + rise_m, exposure) >= wave_level(hs, exposure)).all()


@given(wind_mps, wind_mps, st.floats(0, 10))
def test_stronger_wind_never_lowers_the_signal(
    mean: FloatArray, gust: FloatArray, more: float
) -> None:
    """Typhoon and gale signals are monotonic in mean wind and gust."""
    n = min(len(mean), len(gust))
    mean, gust = mean[:n], gust[:n]
    for signal in (typhoon_signal_level, gale_signal_level):
        assert (signal(mean + more, gust) >= signal(mean, gust)).all()
        assert (signal(mean, gust + more) >= signal(mean, gust)).all()


@given(arrays(np.float64, sizes, elements=st.floats(0, 200)), st.floats(0, 50))
def test_more_chlorophyll_never_lowers_the_red_tide_level(chla: FloatArray, more: float) -> None:
    """The red-tide level is monotonic in chl-a."""
    assert (red_tide_level(chla + more) >= red_tide_level(chla)).all()


@given(with_nan)
def test_levels_bounded_nan_unknown_and_shape_kept(values: FloatArray) -> None:
    """Levels lie in -1..4, are UNKNOWN exactly where the input is NaN, and keep the shape."""
    for level in (
        classify(values, SURGE_M),
        wave_level(values, "nearshore"),
        red_tide_level(values),
    ):
        assert level.shape == values.shape
        assert ((level >= UNKNOWN) & (level <= 4)).all()
        assert ((level == UNKNOWN) == np.isnan(values)).all()


@given(
    arrays(np.int8, st.tuples(st.integers(1, 20), st.integers(1, 5)), elements=st.integers(-1, 4))
)
def test_combine_is_the_known_maximum(levels: np.ndarray) -> None:
    """The combined level is the max of the known levels, UNKNOWN only if all are unknown."""
    out = combine(levels)
    assert out.shape == levels.shape[:1]
    assert (out == levels.max(axis=1)).all()


waves = st.tuples(st.floats(0.2, 6), st.floats(0.02, 0.06))  # Hm0 (m), steepness


def _tm10(hm0: float, steepness: float) -> float:
    return float(np.sqrt(hm0 / steepness * 2 * np.pi / 9.81))


@given(
    waves, st.floats(1.5, 6), st.floats(0, 8), st.floats(0, 3), st.sampled_from(["mean", "design"])
)
def test_more_freeboard_never_more_overtopping(
    wave: tuple[float, float], cot: float, rc_m: float, more_m: float, mode: str
) -> None:
    """q falls (or stays) as the crest is raised."""
    hm0, tm10 = wave[0], _tm10(*wave)
    low = slope_discharge(hm0, tm10, cot, rc_m, mode=mode).q_m3s_per_m
    high = slope_discharge(hm0, tm10, cot, rc_m + more_m, mode=mode).q_m3s_per_m
    assert high <= low
    assert low >= 0


@given(st.floats(0.5, 5), st.floats(0, 2), st.floats(4, 6), st.floats(2, 6), st.floats(0, 8))
def test_q_grows_with_wave_height(
    hm0: float, more_m: float, tm10: float, cot: float, rc_m: float
) -> None:
    """At fixed period, slope and freeboard, higher waves never overtop less (ξ kept ≤ 7)."""
    q = slope_discharge(np.array([hm0, hm0 + more_m]), tm10, cot, rc_m).q_m3s_per_m
    assert q[1] >= q[0] * (1 - 1e-12)


@given(st.floats(0.2, 5), st.floats(0, 2), st.floats(0, 8))
def test_deep_water_wall_q_grows_with_wave_height(hm0: float, more_m: float, rc_m: float) -> None:
    """Eq. 7.1 (deep water) never gives less overtopping for higher waves."""
    q = wall_discharge(np.array([hm0, hm0 + more_m]), 8.0, rc_m).q_m3s_per_m
    assert q[1] >= q[0] * (1 - 1e-12)


@given(arrays(np.float64, sizes, elements=st.floats(0, 0.5)), st.floats(0, 0.1), st.floats(0.1, 5))
def test_more_discharge_never_lowers_the_overtopping_level(
    q: FloatArray, more: float, hm0: float
) -> None:
    """The overtopping level is monotonic in q and in Hm0 (the tolerable limit falls)."""
    assert (overtopping_level(q + more, hm0) >= overtopping_level(q, hm0)).all()
    assert (overtopping_level(q, hm0 + 1.0) >= overtopping_level(q, hm0)).all()
