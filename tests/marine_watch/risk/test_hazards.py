"""Hazard assessment on the live state: surge forecast, stale stations, waves, wind, overtopping."""

from __future__ import annotations

import numpy as np
import pytest

from marine_watch.coast import load_catalogue, load_constants
from marine_watch.risk.assessment import Assessment
from marine_watch.risk.hazards import Assessor
from marine_watch.risk.state import CoastState
from marine_watch.settings import Settings
from risk_models import tide
from risk_models.types import UNKNOWN
from sensors.catalogue import Catalogue
from sensors.reading import Reading
from tests.helpers import CONFIG, num

NOW = 1_795_000_000.0


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CONFIG)


@pytest.fixture(scope="module")
def assessor(catalogue: Catalogue) -> Assessor:
    return Assessor(catalogue, load_constants(Settings(config_dir=CONFIG), catalogue))


def feed(
    state: CoastState, station: str, kind: str, times_s: np.ndarray, values: np.ndarray
) -> None:
    state.add(
        Reading(station, kind, int(t * 1e9), float(v)) for t, v in zip(times_s, values, strict=True)
    )


def by_key(
    assessor: Assessor, state: CoastState, now_s: float = NOW
) -> dict[tuple[str, str], Assessment]:
    return {(a.place, a.hazard.value): a for a in assessor.assess(state, now_s)}


def test_forecast_high_water_is_predicted_tide_plus_persisted_surge(assessor: Assessor) -> None:
    """A steady 1 m surge on the predicted tide raises the next high water by 1 m (persistence)."""
    constants = assessor.constants["zhapu"]
    t = NOW - np.arange(3600.0, -1.0, -60.0)
    state = CoastState()
    feed(state, "zhapu", "tide_level", t, tide.predict(constants, t) + 1.0)
    surge = by_key(assessor, state)[("zhapu", "storm_surge")]
    grid = NOW + np.arange(0.0, 13 * 3600.0, 60.0)
    expected_hw = tide.predict(constants, grid).max() + 1.0
    assert surge.explanation["residual_m"] == pytest.approx(1.0, abs=0.01)
    assert surge.explanation["value"] == pytest.approx(expected_hw, abs=0.05)
    assert num(surge.explanation["peak_time_s"]) > NOW
    assert len(surge.outlook) == 24


def test_surge_level_follows_the_warning_tide_levels(assessor: Assessor) -> None:
    """Water at 5.45 m (85) is red at Zhapu (SAMPLE red 5.40 m) and names the threshold and datum."""
    state = CoastState()
    feed(state, "zhapu", "tide_level", np.array([NOW - 60]), np.array([5.45]))
    surge = by_key(assessor, state)[("zhapu", "storm_surge")]
    assert surge.level == 4
    assert surge.explanation["threshold"] == 5.40
    assert surge.explanation["datum"] == "NVD1985"
    assert surge.explanation["status"] == "SAMPLE"


def test_stale_station_drives_no_colour(assessor: Assessor) -> None:
    """A tide gauge silent for longer than its stale limit is UNKNOWN with the reason."""
    state = CoastState()
    feed(state, "zhapu", "tide_level", np.array([NOW - 3 * 3600]), np.array([5.9]))
    surge = by_key(assessor, state)[("zhapu", "storm_surge")]
    assert surge.level == UNKNOWN
    assert "no reading for 180 min" in (surge.reason or "")


def test_never_heard_station_is_no_data(assessor: Assessor) -> None:
    """Before a station's first reading its hazards are unknown, not none."""
    surge = by_key(assessor, CoastState())[("dushan", "storm_surge")]
    assert surge.level == UNKNOWN
    assert surge.reason == "no reading received yet"


def test_offshore_buoy_uses_the_offshore_table(catalogue: Catalogue) -> None:
    """Hs 5 m is orange nearshore but blue offshore (DOMAIN.md §1.6)."""
    stations = tuple(
        s.model_copy(update={"exposure": "offshore"}) if s.id == "buoy-bay" else s
        for s in catalogue.stations
    )
    offshore = Assessor(catalogue.model_copy(update={"stations": stations}))
    state = CoastState()
    feed(state, "buoy-bay", "wave_height", np.array([NOW - 60]), np.array([5.0]))
    feed(state, "buoy-zhapu", "wave_height", np.array([NOW - 60]), np.array([5.0]))
    got = by_key(offshore, state)
    assert got[("buoy-bay", "waves")].level == 1
    assert got[("buoy-zhapu", "waves")].level == 3


def test_the_bay_buoy_is_nearshore(assessor: Assessor) -> None:
    """buoy-bay lies inside Hangzhou Bay: the nearshore table applies (finding 9)."""
    state = CoastState()
    feed(state, "buoy-bay", "wave_height", np.array([NOW - 60]), np.array([5.0]))
    waves = by_key(assessor, state)[("buoy-bay", "waves")]
    assert waves.explanation["exposure"] == "nearshore"
    assert waves.level == 3


def test_gale_signal_from_mean_wind_or_gust(assessor: Assessor) -> None:
    """A 25 m/s mean wind (force 10) is an orange gale signal."""
    state = CoastState()
    feed(state, "mast-zhapu", "wind_speed", np.array([NOW - 60]), np.array([25.0]))
    feed(state, "mast-zhapu", "wind_gust", np.array([NOW - 60]), np.array([30.0]))
    wind = by_key(assessor, state)[("mast-zhapu", "wind")]
    assert wind.level == 3
    assert wind.explanation["beaufort"] == 10


def test_water_above_the_crest_is_red_overtopping(assessor: Assessor) -> None:
    """Overflow of a dike segment is red whatever the waves."""
    state = CoastState()
    feed(state, "huangshan", "tide_level", np.array([NOW - 60]), np.array([8.6]))
    feed(state, "buoy-zhapu", "wave_height", np.array([NOW - 60]), np.array([1.0]))
    feed(state, "buoy-zhapu", "wave_period", np.array([NOW - 60]), np.array([6.0]))
    over = by_key(assessor, state)[("d-huangshan", "overtopping")]
    assert over.level == 4
    assert over.explanation["formula"] == "overflow"


def test_calm_sea_gives_negligible_overtopping(assessor: Assessor) -> None:
    """Low water and small waves give level 0 with the EurOtop equation named."""
    state = CoastState()
    feed(state, "zhapu", "tide_level", np.array([NOW - 60]), np.array([0.5]))
    feed(state, "buoy-zhapu", "wave_height", np.array([NOW - 60]), np.array([0.6]))
    feed(state, "buoy-zhapu", "wave_period", np.array([NOW - 60]), np.array([5.0]))
    over = by_key(assessor, state)[("d-tianfei", "overtopping")]
    assert over.level == 0
    assert over.explanation["formula"] in {"5.12", "5.13"}
