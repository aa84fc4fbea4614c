"""Harmonic tide: fit, predict, high and low waters."""

import numpy as np
import pytest

from risk_models import tide

T0 = 1.2e9  # 2008-01-10, UTC seconds


def test_fit_recovers_synthetic_constants() -> None:
    """fit(predict(c)) gives c back on a noise-free 60-day series."""
    c = tide.TideConstants(
        51.4,
        0.3,
        ("M2", "S2", "K1", "O1", "M4"),
        np.array([1.7, 0.45, 0.07, 0.1, 0.13]),
        np.array([30.0, 90.0, 355.0, 178.0, 60.0]),
    )
    t = T0 + 3600.0 * np.arange(60 * 24)
    got = tide.fit(t, tide.predict(c, t), 51.4, constituents=c.names)
    np.testing.assert_allclose(got.amplitude_m, c.amplitude_m, atol=1e-9)
    np.testing.assert_allclose(got.phase_deg, c.phase_deg, atol=1e-6)
    assert got.mean_m == pytest.approx(0.3)
