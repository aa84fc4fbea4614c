"""QC flags from the recent history of a series: spike, flat line, conflict; kept, never dropped."""

from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from marine_watch.coast import load_catalogue, load_constants
from marine_watch.demo.simulator import new_simulator
from marine_watch.settings import Settings
from sensors.qc import REMEMBERED, QcHistory
from sensors.reading import Kind, QcFlag, Reading
from sensors.simulate import Typhoon

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
RULES = load_catalogue(CONFIG_DIR).qc  # the shipped config/qc.toml
FLATLINE_DEFAULT = RULES.flatline.default

T0 = 1_795_000_000 * 1_000_000_000
MINUTE = 60 * 1_000_000_000


def tide(i: int, value: float, qc: str = QcFlag.OK.value, station: str = "zhapu") -> Reading:
    return Reading(station, Kind.TIDE_LEVEL.value, T0 + i * MINUTE, value, qc)


def flags(history: QcHistory, readings: list[Reading]) -> list[str]:
    return [history.check(r).qc for r in readings]


def test_a_smooth_tide_is_ok() -> None:
    """A tide rising 2 cm a minute raises no flag."""
    history = QcHistory(RULES)
    assert set(flags(history, [tide(i, 1.0 + 0.02 * i) for i in range(60)])) == {"ok"}


def test_a_jump_away_from_the_neighbours_is_a_spike_and_the_series_goes_on() -> None:
    """A 3 m jump is a spike; the next normal value is ok again (the median ignores the spike)."""
    history = QcHistory(RULES)
    flags(history, [tide(i, 2.0 + 0.01 * i) for i in range(5)])
    assert history.check(tide(5, 5.0)).qc == "spike"
    assert history.check(tide(6, 2.07)).qc == "ok"


def test_a_real_step_is_flagged_only_until_the_neighbours_follow() -> None:
    """After a lasting step the median moves, so the new level stops being a spike."""
    history = QcHistory(RULES)
    flags(history, [tide(i, 1.0) for i in range(3)])
    got = flags(history, [tide(3 + i, 3.0) for i in range(5)])
    assert got[0] == "spike"
    assert got[-1] == "ok"


def test_neighbours_far_apart_in_time_do_not_make_a_spike() -> None:
    """Readings hours apart may differ by metres (the tide turns): no spike verdict."""
    history = QcHistory(RULES)
    flags(history, [tide(i, 1.0) for i in range(3)])
    assert history.check(tide(300, 4.0)).qc == "ok"


def test_directions_are_not_spike_tested() -> None:
    """Wind direction wraps at 360 degrees, so 359 after 1 is not a spike."""
    history = QcHistory(RULES)
    wind = [Reading("zhapu", "wind_direction", T0 + i * MINUTE, v) for i, v in enumerate([1, 2, 1])]
    flags(history, wind)
    assert history.check(Reading("zhapu", "wind_direction", T0 + 3 * MINUTE, 359.0)).qc == "ok"


def test_a_stuck_sensor_is_a_flatline_from_the_nth_identical_value() -> None:
    """N identical consecutive values flag the Nth and the ones after it; a change ends the run."""
    history = QcHistory(RULES)
    got = flags(history, [tide(i, 2.5) for i in range(FLATLINE_DEFAULT + 2)])
    assert got[: FLATLINE_DEFAULT - 1] == ["ok"] * (FLATLINE_DEFAULT - 1)
    assert got[FLATLINE_DEFAULT - 1 :] == ["flatline"] * 3
    assert history.check(tide(FLATLINE_DEFAULT + 2, 2.51)).qc == "ok"


def test_the_same_time_with_another_value_is_a_conflict_and_the_first_value_stays() -> None:
    """A second value for a (station, kind, time) already seen is a conflict; the first is remembered."""
    history = QcHistory(RULES)
    history.check(tide(0, 1.0))
    second = history.check(tide(0, 1.5))
    assert (second.qc, second.value) == ("conflict", 1.5)
    assert history.first_value("zhapu", "tide_level", T0) == 1.0
    assert history.check(tide(0, 1.0)).qc == "ok"  # the first value again is a harmless redelivery
    assert history.check_batch([tide(0, 2.5), tide(0, 1.0)])[0].qc == "conflict"


def test_a_redelivery_gets_the_flag_it_got_the_first_time() -> None:
    """The same point again (MQTT redelivery) keeps its first flag, even where history moved on."""
    history = QcHistory(RULES)
    flags(history, [tide(i, 2.0) for i in range(3)])
    spike = history.check(tide(3, 6.0))
    flags(history, [tide(4 + i, 6.0 + 0.01 * i) for i in range(5)])
    assert spike.qc == "spike"
    assert history.check(tide(3, 6.0)) == spike


def test_payload_flags_are_kept() -> None:
    """A reading the payload check flagged (range, future) keeps that flag and is not a neighbour."""
    history = QcHistory(RULES)
    flags(history, [tide(i, 1.0 + 0.01 * i) for i in range(5)])
    assert history.check(tide(5, 99.0, qc="range")).qc == "range"
    assert history.check(tide(6, 1.06)).qc == "ok"


def test_series_are_independent() -> None:
    """Stations and kinds do not share history."""
    history = QcHistory(RULES)
    flags(history, [tide(i, 1.0, station="zhapu") for i in range(3)])
    assert history.check(tide(3, 5.0, station="dushan")).qc == "ok"


def test_memory_per_series_is_bounded() -> None:
    """Only the last REMEMBERED times are remembered: an old time seen again is judged afresh."""
    history = QcHistory(RULES)
    flags(history, [tide(i, 1.0 + 0.001 * i) for i in range(REMEMBERED + 10)])
    assert history.check(tide(0, 7.0)).qc != "conflict"
    batched = QcHistory(RULES)
    for start in range(0, REMEMBERED + 100, 100):  # the array path forgets as much
        batched.check_batch([tide(i, 1.0 + 0.001 * i) for i in range(start, start + 100)])
    assert batched.check(tide(0, 7.0)).qc != "conflict"
    assert batched.check(tide(REMEMBERED + 99, 7.0)).qc == "conflict"


def test_the_simulated_typhoon_is_not_flagged() -> None:
    """A day of minute data through a typhoon surge (the demo's simulator) gives no QC flag."""
    settings = Settings(config_dir=CONFIG_DIR)
    catalogue = load_catalogue(CONFIG_DIR)
    start_s = 1_795_000_000.0
    storm = Typhoon(peak_s=start_s + 12 * 3600)
    simulator = new_simulator(catalogue, load_constants(settings, catalogue), storm, seed=7)
    history = QcHistory(RULES)
    got = Counter(
        history.check(r).qc for i in range(24 * 60) for r in simulator.readings_at(start_s + 60 * i)
    )
    assert set(got) == {"ok"}, got


@given(st.lists(st.floats(-5, 10), min_size=1, max_size=60))
def test_checking_never_drops_or_changes_a_reading(values: list[float]) -> None:
    """Whatever the values, every reading comes back with the same key and value and a known flag."""
    history = QcHistory(RULES)
    readings = [tide(i, v) for i, v in enumerate(values)]
    checked = [history.check(r) for r in readings]
    assert [(c.key, c.value) for c in checked] == [(r.key, r.value) for r in readings]
    assert {c.qc for c in checked} <= {f.value for f in QcFlag}


def test_seeded_reading_redelivered_after_a_restart_keeps_its_stored_flag() -> None:
    """Warm start: a stored spike, redelivered to a fresh process, is flagged spike again (same point)."""
    stored = Reading("zhapu", "tide_level", T0 + 10 * MINUTE, 9.0, QcFlag.SPIKE.value)
    fresh = QcHistory(RULES)
    fresh.seed([stored])
    again = fresh.check(Reading("zhapu", "tide_level", T0 + 10 * MINUTE, 9.0))
    assert again.qc == QcFlag.SPIKE.value


def _walk(steps: list[tuple[str, int, float, str]]) -> list[Reading]:
    """Readings whose times mostly advance a minute per series, sometimes repeat or go back."""
    at: dict[str, int] = {}
    out = []
    for station, step, value, qc in steps:
        at[station] = at.get(station, 0) + step
        out.append(Reading(station, "tide_level", T0 + at[station] * MINUTE, value, qc))
    return out


series_readings = st.lists(
    st.tuples(
        st.sampled_from(["zhapu", "zhapu", "dushan"]),
        st.sampled_from([1] * 12 + [0, -3, -40]),  # mostly new times; replays and duplicates
        st.sampled_from([1.0] * 9 + [1.01, 1.02, 5.0]) | st.floats(-3, 8),  # flat runs, spikes
        st.sampled_from(["ok"] * 10 + ["range", "future"]),
    ),
    min_size=10,
    max_size=150,
).map(_walk)


@settings(max_examples=200)
@given(
    series_readings,
    st.lists(st.integers(1, 40), min_size=1, max_size=8),
    st.just([]) | series_readings.map(lambda rs: rs[:10]),  # a warm start, or none
)
def test_checking_in_batches_flags_as_checking_one_by_one(
    readings: list[Reading], cuts: list[int], seeded: list[Reading]
) -> None:
    """Whatever the chunking into messages, the array paths give the one-by-one flags."""
    one, many = QcHistory(RULES), QcHistory(RULES)
    for history in (one, many):
        history.seed(seeded)
    expected = [one.check(r).qc for r in readings]
    got: list[str] = []
    start, k = 0, 0
    while start < len(readings):
        size = cuts[k % len(cuts)] * (3 if k % 2 else 1)  # chunks below and above ARRAY_MIN
        got += [r.qc for r in many.check_batch(readings[start : start + size])]
        start, k = start + size, k + 1
    assert got == expected


def test_a_stuck_sensor_across_messages_is_a_flat_line_as_one_by_one() -> None:
    """A run of equal values spanning several whole messages is flagged where one-by-one flags it."""
    readings = [tide(i, 2.5) for i in range(40)]
    one, many = QcHistory(RULES), QcHistory(RULES)
    expected = [one.check(r).qc for r in readings]
    got = [r.qc for start in range(0, 40, 8) for r in many.check_batch(readings[start : start + 8])]
    assert got == expected
    assert expected[FLATLINE_DEFAULT - 1 :] == ["flatline"] * (40 - FLATLINE_DEFAULT + 1)


CATALOGUE = load_catalogue(CONFIG_DIR)
RESOLUTION = {s.id: {k.value: v for k, v in s.resolution.items()} for s in CATALOGUE.stations}


def _cm_tide(minutes: int = 24 * 60, peak_m: float = 5.15) -> list[Reading]:
    """A semi-diurnal tide (M2) peaking at ``peak_m``, one reading a minute, in whole centimetres."""
    omega = 2 * 3.141592653589793 / (12.4206 * 3600)
    amplitude = 2.6
    out = []
    for i in range(minutes):
        t_s = i * 60.0
        value = peak_m - amplitude + amplitude * np.cos(omega * (t_s - 6 * 3600))
        out.append(tide(i, round(float(value), 2)))
    return out


def test_a_whole_centimetre_gauge_at_slack_water_is_not_a_flat_line() -> None:
    """Finding 8: cm-rounded 1-min tide peaking at 5.15 m; Zhapu declares 0.01 m resolution: no flag."""
    readings = _cm_tide()
    assert max(r.value for r in readings) == 5.15
    assert RESOLUTION["zhapu"] == {"tide_level": 0.01}
    one_by_one = flags(QcHistory(RULES, RESOLUTION), readings)
    assert Counter(one_by_one)["flatline"] == 0
    batched = QcHistory(RULES, RESOLUTION).check_batch(readings)
    assert [r.qc for r in batched] == one_by_one
    undeclared = flags(QcHistory(RULES), readings)  # without the resolution: today's behaviour
    assert Counter(undeclared)["flatline"] > 0


def test_a_stuck_quantised_gauge_is_still_a_flat_line() -> None:
    """The same gauge stuck at one value for an hour is flagged once the run outlasts slack water."""
    readings = [tide(i, 2.37) for i in range(60)]
    got = flags(QcHistory(RULES, RESOLUTION), readings)
    first = got.index("flatline")
    assert 30 <= first <= 36  # ~33 min: 2·sqrt(2·0.01 m / 2.0e-8 m/s²)
    assert set(got[first:]) == {"flatline"}
    batched = QcHistory(RULES, RESOLUTION).check_batch(readings)
    assert [r.qc for r in batched] == got
