"""Regular series take a faster prediction path; it must give the general path's values."""

import numpy as np
import pytest

from risk_models import tide
from risk_models.tide_predict import basis


@pytest.mark.parametrize(
    ("step_s", "n"), [(3600.0, 8760), (600.0, 3000), (420.0, 2000), (86400.0, 400)]
)
def test_regular_grid_matches_the_general_basis(step_s: float, n: int) -> None:
    """Block-wise prediction equals the full nodally corrected basis within 1e-6 m."""
    rng = np.random.default_rng(7)
    names = tide.select_constituents(8760.0)
    constants = tide.TideConstants(
        lat=30.6,
        mean_m=0.32,
        names=names,
        amplitude_m=rng.uniform(0.0, 1.0, len(names)),
        phase_deg=rng.uniform(0.0, 360.0, len(names)),
    )
    times = 1_262_304_123.0 + step_s * np.arange(n, dtype=np.float64)
    cos_part, sin_part = basis(names, times, constants.lat)
    g = np.deg2rad(constants.phase_deg)
    reference = (
        0.32
        + cos_part @ (constants.amplitude_m * np.cos(g))
        + sin_part @ (constants.amplitude_m * np.sin(g))
    )
    np.testing.assert_allclose(tide.predict(constants, times), reference, atol=1e-6, rtol=0)


def test_irregular_and_nan_times_still_predict() -> None:
    """A gap or NaN in the times leaves the regular path; results agree with the regular grid."""
    names = ("M2", "S2", "K1")
    constants = tide.TideConstants(
        30.0, 0.0, names, np.array([1.8, 0.7, 0.3]), np.array([300.0, 350.0, 200.0])
    )
    times = 1_262_304_000.0 + 600.0 * np.arange(500, dtype=np.float64)
    regular = tide.predict(constants, times)
    holed = times.copy()
    holed[100] = np.nan
    got = tide.predict(constants, holed)
    assert np.isnan(got[100])
    np.testing.assert_allclose(np.delete(got, 100), np.delete(regular, 100), atol=1e-9)
