"""The warning rules of docs/WARNINGS.md, one test per finding of the audit (and property tests)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marine_watch.alerts.book import AlertBook, MsgType
from marine_watch.alerts.cap import CAP_NS, cap_document
from marine_watch.alerts.wording import Wording
from marine_watch.coast import load_catalogue, load_constants
from marine_watch.errors import ConfigError
from marine_watch.inputs.forecasts import ForecastBook, ForecastIn, WindForecastIn
from marine_watch.risk.assessment import Assessment
from marine_watch.risk.hazards import Assessor
from marine_watch.risk.last_known import LastKnown
from marine_watch.risk.state import CoastState
from marine_watch.risk.zones import ZoneBook
from marine_watch.settings import Settings
from risk_models import tide
from risk_models.types import UNKNOWN, Hazard
from sensors.catalogue import Catalogue
from tests.helpers import CONFIG, cap_schema, obj, seq
from tests.marine_watch.risk.test_hazards import by_key, feed

NOW = 1_795_000_000.0
HOUR = 3600.0
NS = {"cap": CAP_NS}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CONFIG)


@pytest.fixture(scope="module")
def assessor(catalogue: Catalogue) -> Assessor:
    return Assessor(catalogue, load_constants(Settings(config_dir=CONFIG), catalogue))


def text(element: ET.Element, path: str) -> str:
    """The text of a CAP element that must be there."""
    found = element.findtext(path, namespaces=NS)
    assert found is not None, path
    return found


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


# ---- finding 1: a silent member never lowers or cancels a warning ------------------------------

HARBOUR_MEMBERS = ("zhapu/storm_surge", "zhapu/wind", "buoy-zhapu/waves", "mast-zhapu/wind")


def member(key: str, level: int, reason: str | None = None) -> Assessment:
    place, hazard = key.split("/")
    return Assessment(
        place,
        Hazard(hazard),
        level,
        {"hazard": hazard, "station": place, "level": level},
        reason,
        data_s=0.0,
    )


@settings(max_examples=60, deadline=None)
@given(
    start=st.lists(st.integers(0, 4), min_size=4, max_size=4),
    steps=st.lists(
        st.tuples(st.lists(st.booleans(), min_size=4, max_size=4), st.floats(1.0, 5000.0)),
        min_size=1,
        max_size=12,
    ),
)
def test_no_sequence_of_missing_readings_lowers_a_zone(
    catalogue: Catalogue, start: list[int], steps: list[tuple[list[bool], float]]
) -> None:
    """Members that go silent (and come back with the same value) never lower the village or
    send a lowering Update or a Cancel, however long the silence lasts (hold time 600 s)."""
    memory, book, alerts = LastKnown(catalogue), ZoneBook(catalogue, hold_time_s=600), AlertBook()
    now = 0.0
    first = memory.apply([member(k, lv) for k, lv in zip(HARBOUR_MEMBERS, start, strict=True)], now)
    book.update(first, now)
    level = book.current["zhapu-harbour"].level
    assert level == max(start)
    alerts.on_colour(book.current["zhapu-harbour"], now)
    for silent, dt in steps:
        now += dt
        batch = [
            member(k, UNKNOWN, "no reading for a while") if quiet else member(k, lv)
            for k, lv, quiet in zip(HARBOUR_MEMBERS, start, silent, strict=True)
        ]
        book.update(memory.apply(batch, now), now)
        colour = book.current["zhapu-harbour"]
        assert colour.level == level
        message = alerts.on_colour(colour, now)
        assert message is None or message.msg_type != MsgType.CANCEL


def test_alert_book_refuses_to_cancel_while_the_driver_is_silent(catalogue: Catalogue) -> None:
    """Even without the memory (e.g. lifted nothing, restarted), no all-clear with the driver silent."""
    book = ZoneBook(catalogue, hold_time_s=0)
    alerts = AlertBook(Wording(catalogue))
    book.update([member("zhapu/storm_surge", 4), member("mast-zhapu/wind", 0)], 0.0)
    assert alerts.on_colour(book.current["zhapu-harbour"], 0.0) is not None
    book.update([member("zhapu/storm_surge", UNKNOWN, "stale"), member("mast-zhapu/wind", 0)], 10.0)
    assert book.current["zhapu-harbour"].level == 0
    assert alerts.on_colour(book.current["zhapu-harbour"], 10.0) is None
    book.update([member("zhapu/storm_surge", 0), member("mast-zhapu/wind", 0)], 20.0)
    cancel = alerts.on_colour(book.current["zhapu-harbour"], 20.0)
    assert cancel is not None
    assert cancel.msg_type == MsgType.CANCEL


# ---- finding 2 and 4: forecasts drive the colour, with or without the gauge, over 24 h --------


def surge_forecast(level_m: float, ahead_s: float, station: str = "zhapu") -> ForecastIn:
    return ForecastIn(
        station=station,
        issued=iso(NOW),
        source="provincial forecast (test)",
        high_waters=[{"ts": iso(NOW + ahead_s), "level_m": level_m}],
    )


def test_a_red_forecast_without_the_gauge_is_red(catalogue: Catalogue, assessor: Assessor) -> None:
    """Finding 2: no reading at Zhapu, a forecast high water of 5.6 m: red, explained as external."""
    forecasts = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
    forecasts.put(surge_forecast(5.6, 3 * HOUR), "provincial forecast (test)")
    got = {a.key: a for a in forecasts.adjust(assessor.assess(CoastState(), NOW), NOW)}
    surge = got["zhapu/storm_surge"]
    assert surge.level == 4
    assert surge.explanation["forecast_method"] == "external"
    assert surge.explanation["onset_s"] == NOW + 3 * HOUR


def calm_zhapu(assessor: Assessor) -> CoastState:
    constants = assessor.constants["zhapu"]
    t = NOW - np.arange(15 * HOUR, -1.0, -60.0)
    state = CoastState()
    feed(state, "zhapu", "tide_level", t, tide.predict(constants, t))
    return state


def test_an_orange_high_water_13_2_hours_ahead_counts(
    catalogue: Catalogue, assessor: Assessor
) -> None:
    """Finding 4: every high water within outlook_hours (24 h) counts, with its time as onset."""
    forecasts = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
    forecasts.put(surge_forecast(5.2, 13.2 * HOUR), "provincial forecast (test)")
    got = {a.key: a for a in forecasts.adjust(assessor.assess(calm_zhapu(assessor), NOW), NOW)}
    surge = got["zhapu/storm_surge"]
    assert surge.level == 3
    assert surge.explanation["onset_s"] == NOW + 13.2 * HOUR
    persistence = by_key(assessor, calm_zhapu(assessor))[("zhapu", "storm_surge")]
    hws = seq(persistence.explanation["high_waters"])
    assert max(h["ts_s"] for h in hws) > NOW + 13 * HOUR  # beyond the old 13 h window


@settings(max_examples=40, deadline=None)
@given(
    low=st.floats(0.0, 7.0),
    extra=st.floats(0.0, 3.0),
    ahead_h=st.floats(0.1, 23.9),
    gauge=st.booleans(),
)
def test_the_level_is_monotone_in_forecast_high_water(
    catalogue: Catalogue, assessor: Assessor, low: float, extra: float, ahead_h: float, gauge: bool
) -> None:
    """A higher forecast high water never gives a lower surge level (with or without the gauge)."""
    state = calm_zhapu(assessor) if gauge else CoastState()
    base = assessor.assess(state, NOW)
    levels = []
    for height in (low, low + extra):
        forecasts = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
        forecasts.put(surge_forecast(height, ahead_h * HOUR), "provincial forecast (test)")
        got = {a.key: a for a in forecasts.adjust(base, NOW)}
        levels.append(got["zhapu/storm_surge"].level)
    assert levels[1] >= levels[0]


# ---- finding 3: persistence from the skew surge, never below 0 ----------------------------------


def _yellow_high_water(constants: tide.TideConstants) -> float:
    grid = NOW + np.arange(0.0, 30 * 86400.0, 300.0)
    hw = tide.high_low_waters(grid, tide.predict(constants, grid))
    ok = hw.is_high & (hw.heights_m + 1.5 >= 4.80) & (hw.heights_m + 1.5 < 5.05)
    return float(hw.times_s[np.flatnonzero(ok)[0]])


def test_a_late_tide_with_a_surge_still_shows_the_yellow_high_water(assessor: Assessor) -> None:
    """Finding 3: real tide 20 min late + 1.5 m surge, 2.5 h before a yellow high water: yellow."""
    constants = assessor.constants["zhapu"]
    hw = _yellow_high_water(constants)
    now = hw - 2.5 * HOUR
    t = now - np.arange(15 * HOUR, -1.0, -60.0)
    state = CoastState()
    feed(state, "zhapu", "tide_level", t, tide.predict(constants, t - 1200.0) + 1.5)
    surge = by_key(assessor, state, now)[("zhapu", "storm_surge")]
    assert surge.level == 2, surge.explanation
    assert surge.explanation["skew_surge_m"] == pytest.approx(1.5, abs=0.1)


def test_a_negative_residual_never_hides_a_high_water(assessor: Assessor) -> None:
    """A set-down of 0.5 m persists as 0, not -0.5 m: the forecast high water is the predicted one."""
    constants = assessor.constants["zhapu"]
    t = NOW - np.arange(15 * HOUR, -1.0, -60.0)
    state = CoastState()
    feed(state, "zhapu", "tide_level", t, tide.predict(constants, t) - 0.5)
    surge = by_key(assessor, state)[("zhapu", "storm_surge")]
    assert surge.explanation["persisted_surge_m"] == 0.0
    grid = NOW + np.arange(0.0, 24 * HOUR, 60.0)
    assert surge.explanation["value"] == pytest.approx(
        tide.predict(constants, grid).max(), abs=0.03
    )


# ---- finding 5: per-hazard advice, named places, both languages ---------------------------------


@pytest.mark.parametrize(
    ("hazard", "level", "response"),
    [("storm_surge", 4, "Evacuate"), ("storm_surge", 3, "Prepare"), ("wind", 4, "Shelter"),
     ("red_tide", 4, "Avoid"), ("storm_surge", 1, "Monitor")],
)  # fmt: skip
def test_cap_response_and_instruction_follow_hazard_and_colour(
    catalogue: Catalogue, hazard: str, level: int, response: str
) -> None:
    """Finding 5: responseType per hazard and colour; instruction and headline in both languages."""
    colours = {1: "blue", 3: "orange", 4: "red"}
    driver = {"hazard": hazard, "station": "zhapu", "value": 5.5, "unit": "m", "threshold": 5.4}
    from marine_watch.risk.zones import PlaceColour

    colour = PlaceColour("zhapu-harbour", "zone", "village", level, colours[level], driver, (), 0.0)
    message = AlertBook(Wording(catalogue)).on_colour(colour, NOW)
    assert message is not None
    zone = next(z for z in catalogue.zones if z.id == "zhapu-harbour")
    doc = cap_document(message, zone, sender="s@x.invalid", web="http://x.invalid/")
    cap_schema().validate(doc)
    infos = ET.fromstring(doc).findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["en-US", "zh-CN"]
    for info in infos:
        assert info.findtext("cap:responseType", namespaces=NS) == response
        assert info.findtext("cap:instruction", namespaces=NS)
        assert "zhapu-harbour" not in text(info, "cap:headline")
    assert "Zhapu Harbour Community (乍浦港社区)" in text(infos[0], "cap:headline")
    assert "乍浦港社区" in text(infos[1], "cap:headline")
    assert "Zhapu tide station" in text(infos[0], "cap:description")


def test_resident_advice_differs_per_hazard(catalogue: Catalogue) -> None:
    """Red wind says shelter indoors; red storm surge says go to your shelter; both languages."""
    wind = catalogue.advice.resident("wind", 4)
    surge = catalogue.advice.resident("storm_surge", 4)
    assert wind["en"] != surge["en"]
    assert wind["response_type"] == "Shelter"
    assert surge["response_type"] == "Evacuate"
    assert wind["zh"]
    assert surge["zh"]
    assert wind["status"] == "SAMPLE"
    blue_waves = catalogue.advice.resident("waves", 1)
    sentences = blue_waves["en"]
    assert isinstance(sentences, list)
    assert sentences
    assert "moderate" not in " ".join(map(str, sentences)).lower()  # blue is Minor in CAP
    assert blue_waves["response_type"] == "Monitor"
    assert sentences != catalogue.advice.resident("waves", 4)["en"]


# ---- finding 6: red-tide oxygen escalators --------------------------------------------------------


def test_low_oxygen_raises_the_red_tide_level(assessor: Assessor) -> None:
    """Finding 6: chl-a 25 µg/L (yellow) with DO 2.5 mg/L is red (docs/DOMAIN.md §3.3)."""
    state = CoastState()
    feed(state, "wq-tianfei", "chlorophyll_a", np.array([NOW - 60]), np.array([25.0]))
    feed(state, "wq-tianfei", "dissolved_oxygen", np.array([NOW - 60]), np.array([2.5]))
    red_tide = by_key(assessor, state)[("wq-tianfei", "red_tide")]
    assert red_tide.level == 4
    assert obj(red_tide.explanation["escalated_by"])["dissolved_oxygen_mgl"] == 2.5
    feed(state, "wq-quantang", "chlorophyll_a", np.array([NOW - 60]), np.array([25.0]))
    feed(state, "wq-quantang", "dissolved_oxygen", np.array([NOW - 60]), np.array([3.5]))
    assert by_key(assessor, state)[("wq-quantang", "red_tide")].level == 3


# ---- finding 7: typhoon signal criteria with lead times; honest labels ----------------------------


def test_wind_uses_typhoon_criteria_with_lead_times_when_a_typhoon_is_forecast(
    catalogue: Catalogue, assessor: Assessor
) -> None:
    """Finding 7: force 12 forecast in 20 h is yellow, in 5 h red; observed wind alone is labelled."""
    state = CoastState()
    feed(state, "mast-zhapu", "wind_speed", np.array([NOW - 60]), np.array([9.0]))
    observed = by_key(assessor, state)[("mast-zhapu", "wind")]
    assert observed.explanation["criteria"] == "observed wind (gale criteria)"
    assert observed.explanation["averaging"] == "10-min mean of the readings"
    assert observed.explanation["averaging_status"] == "UNKNOWN"
    assert observed.explanation["status"] == "UNKNOWN"
    for ahead_h, level in ((20, 2), (5, 4), (30, 0)):
        forecasts = ForecastBook(catalogue, max_age_s=12 * HOUR, now_s=lambda: NOW)
        forecasts.put_wind(
            WindForecastIn(
                station="mast-zhapu",
                issued=iso(NOW),
                source="provincial observatory (test)",
                typhoon="In-Fa (test)",
                points=[{"ts": iso(NOW + ahead_h * HOUR), "mean_mps": 33.0, "gust_mps": 45.0}],
            ),
            "provincial observatory (test)",
        )
        got = {a.key: a for a in forecasts.adjust(assessor.assess(state, NOW), NOW)}
        wind = got["mast-zhapu/wind"]
        assert wind.level == level, (ahead_h, wind.explanation)
        assert wind.explanation["criteria"] == "typhoon signal criteria"


# ---- finding 9: datums, dead options, stations without warning levels, the bay buoy --------------


def _with(catalogue: Catalogue, station: str, **update: object) -> Catalogue:
    stations = tuple(
        s.model_copy(update=update) if s.id == station else s for s in catalogue.stations
    )
    return catalogue.model_copy(update={"stations": stations})


def test_gauge_datum_readings_are_converted_to_the_1985_datum(
    catalogue: Catalogue, assessor: Assessor
) -> None:
    """Finding 9: a gauge reading 1.84 m high (gauge zero) is converted before the levels."""
    gauge = _with(catalogue, "zhapu", reading_datum="Zhapu gauge zero", gauge_to_85_m=1.84)
    state = CoastState()
    feed(state, "zhapu", "tide_level", np.array([NOW - 60]), np.array([5.45 + 1.84]))
    surge = by_key(Assessor(gauge, assessor.constants), state)[("zhapu", "storm_surge")]
    assert surge.explanation["observed_m"] == pytest.approx(5.45)


def test_a_tide_station_without_a_datum_is_a_config_error(tmp_path: Path) -> None:
    """Finding 9: the datum of incoming readings is required (no silent default of 0)."""
    import shutil

    shutil.copytree(CONFIG, tmp_path / "config")
    path = tmp_path / "config" / "stations.toml"
    path.write_text(path.read_text().replace('reading_datum = "NVD1985"\n', "", 1))
    with pytest.raises(ConfigError, match="reading_datum"):
        load_catalogue(tmp_path / "config")


def test_dead_options_are_gone_or_work(catalogue: Catalogue, assessor: Assessor) -> None:
    """hysteresis_m is removed; blue_if_surge_cm_ge (off by default) gives blue on surge alone;
    a station without warning levels is graded by the SAMPLE surge-only fallback."""
    rules = tomllib.loads((CONFIG / "thresholds.toml").read_text())["rules"]
    assert "hysteresis_m" not in rules
    assert catalogue.rules.blue_if_surge_cm_ge is None
    constants = assessor.constants["zhapu"]
    t = NOW - np.arange(15 * HOUR, -1.0, -60.0)
    state = CoastState()
    feed(state, "zhapu", "tide_level", t, tide.predict(constants, t) + 0.4)
    plain = by_key(assessor, state)[("zhapu", "storm_surge")]
    assert plain.level == 0
    discretion = catalogue.model_copy(
        update={"rules": catalogue.rules.model_copy(update={"blue_if_surge_cm_ge": 30.0})}
    )
    blue = by_key(Assessor(discretion, assessor.constants), state)[("zhapu", "storm_surge")]
    assert blue.level == 1
    assert obj(blue.explanation["discretionary_blue"])["status"] == "UNKNOWN"
    fallback = _with(catalogue, "zhapu", warning_levels=None)
    graded = by_key(Assessor(fallback, assessor.constants), state)[("zhapu", "storm_surge")]
    assert graded.level == 1  # 40 cm ≥ 30 cm blue of the surge-only table
    assert graded.explanation["status"] == "SAMPLE"
    assert graded.explanation["unit"] == "cm"


def test_held_members_survive_a_restart(catalogue: Catalogue) -> None:
    """The memory's rows rebuild it: a red member silent after the restart is still held red."""
    memory = LastKnown(catalogue)
    memory.apply([member("zhapu/storm_surge", 4)], 0.0)
    rows = [row for _, row in memory.take_dirty()]
    again = LastKnown(catalogue)
    again.restore(rows)
    (held,) = again.apply([member("zhapu/storm_surge", UNKNOWN, "no reading yet")], 100.0)
    assert held.level == 4
    assert held.explanation["held"] is True
    assert obj(held.explanation["no_data_since"])["reason"] == "no reading yet"
