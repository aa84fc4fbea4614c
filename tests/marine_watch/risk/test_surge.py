"""Storm-surge assessment of a tide station: persistence forecast, datum, fallback, onset."""

import numpy as np
import pytest

from marine_watch.coast import load_catalogue, load_constants
from marine_watch.risk.state import CoastState
from marine_watch.risk.surge import assess_surge, persistence, strongest
from marine_watch.settings import Settings
from risk_models import tide
from risk_models.types import UNKNOWN
from sensors.catalogue import Catalogue, Station
from sensors.reading import Reading
from tests.helpers import ROOT, seq

NOW = 1_795_000_000.0
HOUR = 3600.0
HOURS = 24


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "config")


@pytest.fixture(scope="module")
def zhapu(catalogue: Catalogue) -> Station:
    station = catalogue.station("zhapu")
    assert station is not None
    return station


@pytest.fixture(scope="module")
def constants(catalogue: Catalogue) -> tide.TideConstants:
    return load_constants(Settings(config_dir=ROOT / "config"), catalogue)["zhapu"]


def gauge(station: Station, constants: tide.TideConstants, offset_m: float) -> CoastState:
    """15 h of readings every 10 min: the predicted tide plus ``offset_m``, in the station's datum."""
    times = NOW - np.arange(90, -1, -1, dtype=np.float64) * 600.0
    values = tide.predict(constants, times) + offset_m + station.gauge_to_85_m
    state = CoastState()
    state.add(
        Reading(station.id, "tide_level", int(t * 1e9), float(v))
        for t, v in zip(times, values, strict=True)
    )
    return state


def predicted_high_waters(constants: tide.TideConstants) -> np.ndarray:
    grid = NOW + np.arange(0.0, HOURS * HOUR + 600.0, 600.0)
    hw = tide.high_low_waters(grid, tide.predict(constants, grid))
    return hw.heights_m[hw.is_high & (hw.times_s >= NOW) & (hw.times_s <= NOW + HOURS * HOUR)]


def test_a_steady_surge_is_persisted_onto_every_high_water(
    zhapu: Station, constants: tide.TideConstants
) -> None:
    """0.5 m above the tide for a whole cycle: the next high waters are forecast 0.5 m higher."""
    fc = persistence(gauge(zhapu, constants, 0.5), zhapu, constants, NOW, HOURS)
    assert fc.surge_m == pytest.approx(0.5, abs=0.02)
    assert fc.extra["residual_m"] == pytest.approx(0.5, abs=0.01)
    assert fc.extra["skew_surge_m"] == pytest.approx(0.5, abs=0.05)
    expected = predicted_high_waters(constants) + fc.surge_m
    assert fc.hw_m.size == expected.size >= 2  # two high waters a day (semi-diurnal)
    np.testing.assert_allclose(fc.hw_m, expected, atol=0.02)
    assert fc.hourly_max_m.shape == (HOURS,)


def test_a_set_down_never_lowers_the_forecast(
    zhapu: Station, constants: tide.TideConstants
) -> None:
    """0.4 m below the tide (减水): the persisted surge is 0, the high waters are the tide's."""
    fc = persistence(gauge(zhapu, constants, -0.4), zhapu, constants, NOW, HOURS)
    assert fc.extra["residual_m"] == pytest.approx(-0.4, abs=0.01)
    assert fc.surge_m == 0.0
    np.testing.assert_allclose(fc.hw_m, predicted_high_waters(constants), atol=0.02)


def test_readings_in_another_datum_are_converted_once(
    zhapu: Station, constants: tide.TideConstants
) -> None:
    """A gauge 1.84 m above the 1985 datum reports 1.84 m more; the assessment is the same."""
    offset = zhapu.model_copy(update={"reading_datum": "local gauge zero", "gauge_to_85_m": 1.84})
    rules = load_catalogue(ROOT / "config").rules
    a, view = assess_surge(gauge(zhapu, constants, 0.3), zhapu, constants, rules, NOW, 1800)
    b, view_b = assess_surge(gauge(offset, constants, 0.3), offset, constants, rules, NOW, 1800)
    assert a.level == b.level
    assert a.explanation["observed_m"] == pytest.approx(b.explanation["observed_m"])
    assert view is not None
    assert view_b is not None
    assert view.water_m == pytest.approx(view_b.water_m)


def test_a_forecast_high_water_sets_the_colour_and_its_onset(
    zhapu: Station, constants: tide.TideConstants, catalogue: Catalogue
) -> None:
    """A surge that puts the next high water above a warning level colours the station now, with
    the onset at that high water; no reading at all is unknown, never none."""
    rules = catalogue.rules
    state = gauge(zhapu, constants, 3.6)  # on a neap tide: the high water reaches 5.2 m
    a, view = assess_surge(state, zhapu, constants, rules, NOW, 1800)
    hws = seq(a.explanation["high_waters"])
    peak = max(h["level_m"] for h in hws)
    wl = zhapu.warning_levels
    assert wl is not None
    assert a.level == sum(peak >= b for b in (wl.blue, wl.yellow, wl.orange, wl.red)) > 0
    assert a.explanation["value"] == pytest.approx(peak, abs=1e-3)
    assert a.explanation["onset_s"] in [h["ts_s"] for h in hws]
    assert len(a.outlook) == HOURS
    assert max(a.outlook) == a.level
    assert view is not None
    assert view.water_m == pytest.approx(peak, abs=1e-3)

    silent, none_view = assess_surge(CoastState(), zhapu, constants, rules, NOW, 1800)
    assert silent.level == UNKNOWN
    assert silent.reason == "no valid tide reading"
    assert none_view is None


def test_without_warning_levels_the_sample_surge_table_grades(
    zhapu: Station, constants: tide.TideConstants, catalogue: Catalogue
) -> None:
    """No warning tide levels: the surge alone, on the SAMPLE table (cm); without tide constants
    there is no surge rule and the colour is unknown."""
    bare = zhapu.model_copy(update={"warning_levels": None})
    rules = catalogue.rules
    table = rules.surge_fallback_cm
    assert table is not None
    a, _ = assess_surge(gauge(bare, constants, 0.6), bare, constants, rules, NOW, 1800)
    assert a.explanation["unit"] == "cm"
    assert a.explanation["status"] == "SAMPLE"
    assert a.level == 2  # 60 cm: yellow (50) below orange (80)
    b, _ = assess_surge(gauge(bare, constants, 0.6), bare, None, rules, NOW, 1800)
    assert b.level == UNKNOWN
    assert "no tide constants" in str(b.reason)


def test_strongest_is_the_highest_with_the_first_onset_at_its_level(zhapu: Station) -> None:
    """Onset: the first high water reaching the top level, not the highest one."""
    wl = zhapu.warning_levels
    assert wl is not None
    times = np.array([1.0, 2.0, 3.0, 4.0])
    heights = np.array([4.0, wl.red + 0.01, wl.red + 0.3, 4.5])
    assert strongest(times, heights, wl.thresholds()) == (3.0, wl.red + 0.3, 2.0, 4)
    assert strongest(times, np.full(4, 1.0), wl.thresholds()) == (1.0, 1.0, None, 0)
    assert strongest(np.empty(0), np.empty(0), wl.thresholds()) is None
