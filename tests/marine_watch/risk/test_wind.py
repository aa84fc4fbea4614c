"""Wind and red-tide assessments of one station: averaging windows, gusts, escalators, no data."""

import numpy as np
import pytest

from marine_watch.coast import load_catalogue
from marine_watch.risk.state import CoastState
from marine_watch.risk.wind import GALE_LABEL, assess_red_tide, assess_wind
from risk_models import wind
from risk_models.types import UNKNOWN
from sensors.catalogue import Catalogue, Station
from sensors.reading import Reading
from tests.helpers import ROOT, obj

NOW = 1_795_000_000.0


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "config")


def station(catalogue: Catalogue, station_id: str) -> Station:
    found = catalogue.station(station_id)
    assert found is not None
    return found


def feed(state: CoastState, station_id: str, kind: str, items: list[tuple[float, float]]) -> None:
    state.add(Reading(station_id, kind, int(t * 1e9), v) for t, v in items)


def test_the_mean_is_over_the_window_and_the_gust_is_its_maximum(catalogue: Catalogue) -> None:
    """Readings older than the 10-min window do not count; the level is the CMA gale signal's."""
    mast = station(catalogue, "mast-zhapu")
    state = CoastState()
    feed(state, mast.id, "wind_speed", [(NOW - 1200, 40.0), (NOW - 300, 18.0), (NOW - 60, 22.0)])
    feed(state, mast.id, "wind_gust", [(NOW - 1200, 50.0), (NOW - 300, 24.0), (NOW - 60, 27.0)])
    a = assess_wind(state, mast, catalogue.rules, NOW)
    assert a.explanation["value"] == 20.0  # (18 + 22) / 2, not the 40 m/s of 20 min ago
    assert a.explanation["gust"] == 27.0
    expected = wind.gale_signal_level(np.array([20.0]), np.array([27.0]))[0]
    assert a.level == int(expected)
    assert a.explanation["criteria"] == GALE_LABEL
    assert a.explanation["beaufort"] == 8
    assert a.explanation["averaging_status"] == "UNKNOWN"  # the CMA averaging period is unknown
    assert a.explanation["status"] == "UNKNOWN"
    assert a.data_s == NOW - 60


def test_a_gust_alone_can_raise_the_level(catalogue: Catalogue) -> None:
    """A light mean wind with a strong gust: the gust criterion sets the level."""
    mast = station(catalogue, "mast-zhapu")
    calm, gusty = CoastState(), CoastState()
    feed(calm, mast.id, "wind_speed", [(NOW - 60, 5.0)])
    feed(gusty, mast.id, "wind_speed", [(NOW - 60, 5.0)])
    feed(gusty, mast.id, "wind_gust", [(NOW - 60, 30.0)])
    assert assess_wind(calm, mast, catalogue.rules, NOW).level == 0
    assert assess_wind(calm, mast, catalogue.rules, NOW).explanation["gust"] is None
    assert assess_wind(gusty, mast, catalogue.rules, NOW).level > 0


def test_no_wind_reading_in_the_window_is_unknown(catalogue: Catalogue) -> None:
    """Silent for longer than the window: unknown with the reason, never none."""
    mast = station(catalogue, "mast-zhapu")
    state = CoastState()
    feed(state, mast.id, "wind_speed", [(NOW - 1200, 10.0)])
    a = assess_wind(state, mast, catalogue.rules, NOW)
    assert a.level == UNKNOWN
    assert a.reason == "no valid wind reading in the last 10 min"


def test_red_tide_is_the_hourly_chlorophyll_raised_by_low_oxygen(catalogue: Catalogue) -> None:
    """Chl-a 25 µg/L is yellow on the SAMPLE table; dissolved oxygen below 3 mg/L makes it red,
    and the explanation says what escalated it."""
    wq = station(catalogue, "wq-tianfei")
    state = CoastState()
    feed(state, wq.id, "chlorophyll_a", [(NOW - 3000, 20.0), (NOW - 600, 30.0)])
    plain = assess_red_tide(state, wq, catalogue.rules, NOW)
    assert plain.level == 2
    assert plain.explanation["value"] == pytest.approx(25.0)
    assert "escalated_by" not in plain.explanation
    assert plain.explanation["status"] == "SAMPLE"

    feed(state, wq.id, "dissolved_oxygen", [(NOW - 300, 2.5)])
    low = assess_red_tide(state, wq, catalogue.rules, NOW)
    assert low.level == 4
    assert obj(low.explanation["escalated_by"])["red_below_mgl"] == 3.0
    assert low.explanation["dissolved_oxygen_mgl"] == 2.5
    assert low.data_s == NOW - 300

    silent = assess_red_tide(CoastState(), wq, catalogue.rules, NOW)
    assert silent.level == UNKNOWN
    assert silent.reason == "no valid chlorophyll-a reading in the last hour"
