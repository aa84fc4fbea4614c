"""The 24 h outlook never contradicts the card: slot 0 is the colour now, every forecastable hazard counts."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marine_watch.coast import load_catalogue, load_constants
from marine_watch.inputs.forecasts import ForecastBook
from marine_watch.inputs.wave_forecasts import WaveForecastIn
from marine_watch.risk.assessment import Assessment
from marine_watch.risk.hazards import Assessor, overtopping_outlook, overtopping_outlook_each_hour
from marine_watch.risk.outlook import Outlook, at_hours, place_outlook, wind_hours
from marine_watch.risk.state import CoastState
from marine_watch.risk.zones import PlaceColour, ZoneBook
from marine_watch.settings import Settings
from risk_models import tide
from risk_models.types import Hazard
from sensors.catalogue import Catalogue
from sensors.reading import Reading
from tests.helpers import CONFIG, num

NOW = 1_795_000_000.0
VILLAGE = "zhapu-harbour"  # stations zhapu, buoy-zhapu, mast-zhapu; dike d-zhapu


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CONFIG)


@pytest.fixture(scope="module")
def assessor(catalogue: Catalogue) -> Assessor:
    return Assessor(catalogue, load_constants(Settings(config_dir=CONFIG), catalogue))


def _coast(
    assessor: Assessor, now_s: float, surge_m: float, hs_m: float, tp_s: float
) -> CoastState:
    state = CoastState()
    t = now_s - np.arange(3600.0, -1.0, -300.0)
    water = tide.predict(assessor.constants["zhapu"], t) + surge_m
    state.add(
        Reading("zhapu", "tide_level", int(x * 1e9), float(v))
        for x, v in zip(t, water, strict=True)
    )
    for kind, value in (("wave_height", hs_m), ("wave_period", tp_s)):
        state.add(Reading("buoy-zhapu", kind, int(x * 1e9), value) for x in t[-3:])
    return state


def _village(
    catalogue: Catalogue, assessments: list[Assessment], now_s: float
) -> tuple[PlaceColour, Outlook]:
    zone = next(z for z in catalogue.zones if z.id == VILLAGE)
    book = ZoneBook(catalogue, catalogue.rules.hold_time_s)
    book.update(assessments, now_s)
    colour = book.current[VILLAGE]
    members = [a for a in assessments if a.place in zone.stations or a.place in zone.segments]
    hazard = (colour.driver or {}).get("hazard")
    outlook = place_outlook(
        colour.level, members, now_s, catalogue.rules.outlook_hours, str(hazard) if hazard else None
    )
    return colour, outlook


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    surge_m=st.floats(0.0, 2.0),
    hs_m=st.floats(0.5, 3.5),
    tp_s=st.floats(5.0, 11.0),
    offset_h=st.floats(0.0, 24.8),
)
def test_orange_from_overtopping_never_shows_a_lower_first_slot(
    catalogue: Catalogue,
    assessor: Assessor,
    surge_m: float,
    hs_m: float,
    tp_s: float,
    offset_h: float,
) -> None:
    """Whatever the tide phase, surge and waves: slot 0 is the card's colour, and a village orange
    (or red) from overtopping shows that colour first and reaches it again in the hours ahead."""
    now_s = NOW + offset_h * 3600.0
    assessments = assessor.assess(_coast(assessor, now_s, surge_m, hs_m, tp_s), now_s)
    by_key = {(a.place, a.hazard.value): a for a in assessments}
    colour, outlook = _village(catalogue, assessments, now_s)
    first = outlook.slots[0]
    assert first["now"] is True
    assert first["level"] == colour.level
    assert len(outlook.slots) == catalogue.rules.outlook_hours
    overtopping = by_key[("d-zhapu", "overtopping")]
    if overtopping.level >= 3:
        assert first["level"] >= 3
        assert "overtopping" in outlook.covers
    for a in (overtopping, by_key[("zhapu", "storm_surge")]):
        if a.outlook:  # a forecast hazard reaches its card level somewhere in the outlook
            assert max(a.outlook) >= a.level, (a.key, a.level, a.outlook)
    assert "waves" in {g["hazard"] for g in outlook.not_covered}  # no wave forecast given


def test_orange_overtopping_outlook_names_its_hazard_and_what_is_not_forecast(
    catalogue: Catalogue, assessor: Assessor
) -> None:
    """2.5 m waves on a calm tide: orange from overtopping, surge none; the strip is not all green."""
    assessments = assessor.assess(_coast(assessor, NOW, 0.0, 2.5, 8.0), NOW)
    by_key = {(a.place, a.hazard.value): a for a in assessments}
    assert by_key[("zhapu", "storm_surge")].level == 0
    assert by_key[("d-zhapu", "overtopping")].level == 3
    colour, outlook = _village(catalogue, assessments, NOW)
    assert colour.level == 3
    assert outlook.slots[0]["colour"] == "orange"
    assert outlook.slots[0]["hazard"] == "overtopping"
    ahead = [s for s in outlook.slots[1:] if s["hazard"] == "overtopping"]
    assert ahead
    assert max(int(str(s["level"])) for s in ahead) == 3
    assert outlook.covers == ["overtopping", "storm_surge"]
    gaps = {g["hazard"]: g["reason"] for g in outlook.not_covered}
    assert "no valid wave forecast" in gaps["waves"]
    assert "wind" in gaps  # no typhoon wind forecast: named, not silently left out


def test_unknown_card_stays_unknown_in_the_first_slot() -> None:
    """No data is not none: the first slot says unknown, not green."""
    member = Assessment(
        "zhapu", Hazard.STORM_SURGE, -1, {"hazard": "storm_surge"}, reason="no data"
    )
    outlook = place_outlook(-1, [member], NOW, 24)
    assert outlook.slots[0]["colour"] == "unknown"
    assert outlook.covers == []
    assert outlook.not_covered[0]["reason"].startswith("no data")


def test_forecast_points_fall_in_their_hour_and_wind_is_interpolated() -> None:
    """High waters land in their hour (max per hour); wind between points is interpolated, and
    hours outside the forecast's span have no forecast (-1)."""
    times = np.array([NOW + 1800.0, NOW + 2400.0, NOW + 5 * 3600.0])
    assert at_hours(times, np.array([1, 3, 2]), NOW, 6) == (3, -1, -1, -1, -1, 2)
    t = np.array([NOW, NOW + 3 * 3600.0, NOW + 6 * 3600.0])
    hourly = wind_hours(t, np.array([5.0, 5.0, 40.0]), np.array([8.0, 8.0, 50.0]), NOW, 12)
    assert hourly[:3] == (0, 0, 0)
    assert hourly[5] == 4  # mean over 32.7 m/s (force 12) by then: red
    assert hourly[3:6] == tuple(sorted(hourly[3:6]))
    assert hourly[7:] == (-1,) * 5


def _iso(ts_s: float) -> str:
    return datetime.fromtimestamp(ts_s, UTC).isoformat()


def _wave_forecast(points: list[tuple[float, float, float]]) -> WaveForecastIn:
    return WaveForecastIn(
        station="buoy-zhapu",
        issued=_iso(NOW),
        source="provincial forecast office (test)",
        points=[{"ts": _iso(t), "hs_m": h, "tp_s": p} for t, h, p in points],
    )


def test_a_wave_forecast_drives_the_waves_colour_their_outlook_and_the_dike_outlook(
    catalogue: Catalogue, assessor: Assessor
) -> None:
    """1.5 m observed (none), forecast rising to 4 m in 6 h then easing: waves turn yellow now with
    the onset at the peak hour, the waves outlook follows the forecast and ends where it ends, and
    the dike's overtopping uses the forecast waves in those hours (at least as high as held waves)."""
    state = _coast(assessor, NOW, 0.5, 1.5, 8.0)
    before = {a.key: a for a in assessor.assess(state, NOW)}
    assert before["buoy-zhapu/waves"].level == 0
    book = ForecastBook(catalogue, max_age_s=12 * 3600.0, now_s=lambda: NOW)
    book.put_waves(
        _wave_forecast(
            [(NOW, 1.5, 8.0), (NOW + 6 * 3600.0, 4.0, 10.0), (NOW + 12 * 3600.0, 2.0, 8.0)]
        ),
        "provincial forecast office (test)",
    )
    after = {a.key: a for a in book.adjust(assessor.assess(state, NOW), NOW)}
    waves = after["buoy-zhapu/waves"]
    assert waves.level == 2  # 4.0 m nearshore: yellow (3.5 <= Hs < 4.5, docs/DOMAIN.md §1.6)
    assert waves.explanation["forecast_source"] == "provincial forecast office (test)"
    assert waves.explanation["observed_level"] == 0
    assert num(waves.explanation["onset_s"]) > NOW
    assert waves.outlook[0] == 0
    assert max(waves.outlook) == 2
    assert waves.outlook[13:] == (-1,) * 11  # past the forecast's last point (12 h): none
    dike = after["d-zhapu/overtopping"]
    held = before["d-zhapu/overtopping"]
    assert "forecast waves" in str(dike.explanation["outlook_method"])
    assert all(f >= h for f, h in zip(dike.outlook[1:12], held.outlook[1:12], strict=True))
    assert max(dike.outlook[:12]) > max(held.outlook[:12])
    assert dike.level == max(held.level, max(dike.outlook))
    _, outlook = _village(catalogue, list(after.values()), NOW)
    assert "waves" in outlook.covers
    assert "waves" not in {g["hazard"] for g in outlook.not_covered}


def test_a_wave_forecast_for_a_station_without_waves_is_refused(catalogue: Catalogue) -> None:
    book = ForecastBook(catalogue, max_age_s=3600.0, now_s=lambda: NOW)
    bad = _wave_forecast([(NOW, 2.0, 8.0)]).model_copy(update={"station": "zhapu"})
    with pytest.raises(ValueError, match="unknown wave station"):
        book.put_waves(bad, "provincial forecast office (test)")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seg_index=st.integers(0, 5),
    base_m=st.floats(-3.0, 1.0),
    swings=st.lists(st.floats(-3.0, 3.0), min_size=24, max_size=24),
    hs_m=st.floats(0.3, 4.0),
    tp_s=st.floats(3.0, 14.0),
)
def test_vectorised_overtopping_outlook_equals_one_evaluation_per_hour(
    catalogue: Catalogue,
    seg_index: int,
    base_m: float,
    swings: list[float],
    hs_m: float,
    tp_s: float,
) -> None:
    """The outlook computed for all hours at once is the one computed hour by hour, for every
    sample dike (sloping and vertical: the wall's regimes make it non-monotonic in the water
    level), tides from 6 m below the crest to above it, and any waves."""
    seg = catalogue.segments[seg_index % len(catalogue.segments)]
    table = catalogue.rules.overtopping_lps_per_m
    hourly = [seg.crest_level_m - 3.0 + base_m + s for s in swings]
    fast = overtopping_outlook(seg, table, hourly, hs_m, tp_s)
    assert fast == overtopping_outlook_each_hour(seg, table, hourly, hs_m, tp_s)


def test_a_held_orange_card_still_leads_the_outlook_when_the_forecast_is_calmer(
    catalogue: Catalogue, assessor: Assessor
) -> None:
    """Orange from overtopping, then the waves drop: the card holds orange for the hold time, so
    the first slot is orange although every forecast hour is lower now."""
    zone = next(z for z in catalogue.zones if z.id == VILLAGE)
    book = ZoneBook(catalogue, catalogue.rules.hold_time_s)
    book.update(assessor.assess(_coast(assessor, NOW, 0.0, 2.5, 8.0), NOW), NOW)
    assert book.current[VILLAGE].level == 3
    later = NOW + 600.0
    calm = assessor.assess(_coast(assessor, later, 0.0, 1.0, 6.0), later)
    book.update(calm, later)
    card = book.current[VILLAGE]
    assert card.level == 3  # held (hold time 1800 s, SAMPLE)
    assert card.held is not None
    members = [a for a in calm if a.place in zone.stations or a.place in zone.segments]
    outlook = place_outlook(
        card.level, members, later, catalogue.rules.outlook_hours, "overtopping"
    )
    assert outlook.slots[0]["level"] == 3
    assert int(str(outlook.slots[0]["forecast_level"])) < 3
    assert max(int(str(s["level"])) for s in outlook.slots[1:]) < 3
