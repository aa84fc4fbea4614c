"""The surge forecast methods of ``rules.surge_forecast``: observed, persistence, trend
(docs/WARNINGS.md, docs/HINDCAST.md §3), on the sample coast's Zhapu constants."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from marine_watch.coast import load_catalogue, load_constants
from marine_watch.errors import ConfigError
from marine_watch.risk.hazards import Assessor
from marine_watch.risk.state import CoastState
from marine_watch.settings import Settings
from risk_models import tide
from sensors.catalogue import Catalogue
from tests.helpers import CONFIG, num
from tests.marine_watch.risk.test_hazards import feed

NOW = 1_795_000_000.0
HOUR = 3600.0


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CONFIG)


def assessor(catalogue: Catalogue, method: str) -> Assessor:
    rules = catalogue.rules.model_copy(update={"surge_forecast": method})
    chosen = catalogue.model_copy(update={"rules": rules})
    return Assessor(chosen, load_constants(Settings(config_dir=CONFIG), catalogue))


def surge_of(
    catalogue: Catalogue, method: str, surge_m: Callable[[np.ndarray], np.ndarray]
) -> dict[str, object]:
    """Zhapu's storm-surge explanation after 18 h of 5-min readings: tide + ``surge_m(t)``."""
    a = assessor(catalogue, method)
    constants = a.constants["zhapu"]
    t = NOW - np.arange(18 * HOUR, -1.0, -300.0)
    state = CoastState()
    feed(state, "zhapu", "tide_level", t, tide.predict(constants, t) + surge_m(t))
    found = {(x.place, x.hazard.value): x for x in a.assess(state, NOW)}
    return dict(found[("zhapu", "storm_surge")].explanation)


def test_the_default_is_persistence(catalogue: Catalogue) -> None:
    assert catalogue.rules.surge_forecast == "persistence"
    exp = surge_of(catalogue, "persistence", lambda t: 0.3 + 0 * t)
    assert exp["forecast_method"] == "persistence"
    assert "surge_rise_m_per_h" not in exp


def test_trend_carries_a_rising_surge_ahead(catalogue: Catalogue) -> None:
    """A surge rising 5 cm/h: trend adds the rise (carried up to 12 h, at most 0.5 m)."""

    def rising(t: np.ndarray) -> np.ndarray:
        return 0.05 * (t - (NOW - 18 * HOUR)) / HOUR

    persistence = surge_of(catalogue, "persistence", rising)
    trend = surge_of(catalogue, "trend", rising)
    assert trend["forecast_method"] == "trend"
    assert trend["surge_rise_m_per_h"] == pytest.approx(0.05, abs=0.005)
    assert trend["persisted_surge_m"] == persistence["persisted_surge_m"]
    gain = num(trend["value"]) - num(persistence["value"])
    assert 0.1 < gain <= 0.5 + 1e-9  # 5 cm/h times the hours to the highest high water, capped


def test_trend_ignores_what_a_late_tide_puts_into_the_residual(catalogue: Catalogue) -> None:
    """A steady surge on a tide running 20 min late swings the residual by decimetres within a
    cycle; the mean over a cycle does not rise, so trend forecasts what persistence does."""
    a = assessor(catalogue, "trend")
    constants = a.constants["zhapu"]
    t = NOW - np.arange(18 * HOUR, -1.0, -300.0)
    swing = tide.predict(constants, t - 1200.0) - tide.predict(constants, t)
    assert np.ptp(swing) > 0.3  # the residual a late tide makes
    state = CoastState()
    feed(state, "zhapu", "tide_level", t, tide.predict(constants, t - 1200.0) + 0.6)
    exp = dict(
        {(x.place, x.hazard.value): x for x in a.assess(state, NOW)}[
            ("zhapu", "storm_surge")
        ].explanation
    )
    assert abs(num(exp["surge_rise_m_per_h"])) < 0.02


def test_trend_never_forecasts_a_fall_and_waits_for_two_cycles(catalogue: Catalogue) -> None:
    def falling(t: np.ndarray) -> np.ndarray:
        return 1.5 - 0.05 * (t - (NOW - 18 * HOUR)) / HOUR

    persistence = surge_of(catalogue, "persistence", falling)
    trend = surge_of(catalogue, "trend", falling)
    assert num(trend["surge_rise_m_per_h"]) < 0
    assert trend["value"] == pytest.approx(persistence["value"])

    a = assessor(catalogue, "trend")
    constants = a.constants["zhapu"]
    t = NOW - np.arange(10 * HOUR, -1.0, -300.0)  # less than a cycle and 3 h: no trend yet
    state = CoastState()
    feed(state, "zhapu", "tide_level", t, tide.predict(constants, t) + 0.1 * (t - t[0]) / HOUR)
    exp = {(x.place, x.hazard.value): x for x in a.assess(state, NOW)}[("zhapu", "storm_surge")]
    assert exp.explanation["surge_rise_m_per_h"] is None


def test_observed_only_forecasts_nothing(catalogue: Catalogue) -> None:
    exp = surge_of(catalogue, "observed", lambda t: 1.0 + 0 * t)
    assert exp["forecast_method"] == "observed"
    assert "high_waters" not in exp
    assert exp["value"] == pytest.approx(exp["observed_m"], abs=1e-3)  # the observed level's


def test_an_unknown_method_is_a_config_error(tmp_path: Path) -> None:
    shutil.copytree(CONFIG, tmp_path / "config")
    path = tmp_path / "config" / "thresholds.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('surge_forecast = "persistence"', 'surge_forecast = "guess"'))
    with pytest.raises(ConfigError, match="surge_forecast"):
        load_catalogue(tmp_path / "config")
