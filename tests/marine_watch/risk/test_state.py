"""The live state: ring buffers of QC-passed readings, the latest reading whatever its flag."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from marine_watch.risk.state import ARRAY_MIN, CoastState, Ring, snapshot
from sensors.reading import Reading

T0 = 1_795_000_000.0


def _r(t_s: float, value: float, qc: str = "ok", station: str = "zhapu") -> Reading:
    return Reading(station, "tide_level", int(t_s * 1e9), value, qc)


def test_a_ring_keeps_the_last_capacity_readings_in_time_order() -> None:
    """Past its capacity the oldest go; a window comes back sorted by time."""
    ring = Ring(4)
    for i in range(6):
        ring.append(T0 + i, float(i))
    t, v = ring.window(-np.inf)
    assert list(t - T0) == [2, 3, 4, 5]
    assert list(v) == [2, 3, 4, 5]
    t, _ = ring.window(T0 + 3, T0 + 4)
    assert list(t - T0) == [3, 4]


def test_flagged_readings_are_last_but_never_used_for_risk() -> None:
    """A QC-flagged reading is the station's latest (for the dashboard) but not in its window."""
    state = CoastState(16)
    state.add([_r(T0, 1.0), _r(T0 + 60, 9.9, "spike")])
    assert state.last_any("zhapu", "tide_level") == (T0 + 60, 9.9, "spike")
    assert state.latest("zhapu", "tide_level", now_s=T0 + 60, max_age_s=600) == (T0, 1.0)
    assert state.latest("zhapu", "tide_level", now_s=T0 + 900, max_age_s=600) is None
    assert state.last_seen_s["zhapu"] == T0 + 60
    assert state.kinds("zhapu") == ["tide_level"]
    assert state.last_any("zhapu", "wave_height") is None


def test_a_late_reading_does_not_replace_the_latest() -> None:
    """Readings out of order: the window has them all, 'last' stays the newest."""
    state = CoastState(16)
    state.add([_r(T0 + 120, 2.0), _r(T0 + 60, 1.5)])
    assert state.last_any("zhapu", "tide_level") == (T0 + 120, 2.0, "ok")
    _, v = state.window("zhapu", "tide_level", T0)
    assert list(v) == [1.5, 2.0]


def test_a_snapshot_does_not_move_with_the_state() -> None:
    """The numerics read a copy: readings added after it do not show in it."""
    state = CoastState(16)
    state.add([_r(T0, 1.0)])
    copy = snapshot(state)
    state.add([_r(T0 + 60, 2.0), _r(T0 + 60, 3.0, station="dushan")])
    assert copy.last_any("zhapu", "tide_level") == (T0, 1.0, "ok")
    assert copy.window("zhapu", "tide_level", T0)[1].tolist() == [1.0]
    assert "dushan" not in copy.last_seen_s


readings = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=50),  # seconds after T0: repeats and disorder
        st.floats(min_value=-5, max_value=10, allow_nan=False),
        st.sampled_from(["ok", "ok", "ok", "spike", "range"]),
    ),
    min_size=ARRAY_MIN,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(readings, st.integers(min_value=3, max_value=20))
def test_adding_a_block_equals_adding_one_at_a_time(
    items: list[tuple[int, float, str]], capacity: int
) -> None:
    """The array path (a block of ARRAY_MIN or more) leaves the state the loop path leaves."""
    batch = [_r(T0 + t, v, q) for t, v, q in items]
    at_once, one_by_one = CoastState(capacity), CoastState(capacity)
    at_once.add(batch)
    for reading in batch:
        one_by_one.add([reading])
    a, b = at_once.ring("zhapu", "tide_level"), one_by_one.ring("zhapu", "tide_level")
    assert a is not None
    assert b is not None
    assert (a.n, a.head) == (b.n, b.head)
    np.testing.assert_array_equal(a.times_s, b.times_s)
    np.testing.assert_array_equal(a.values, b.values)
    assert (a.last_ts_s, a.last_value, a.last_qc) == (b.last_ts_s, b.last_value, b.last_qc)
    assert at_once.last_seen_s == one_by_one.last_seen_s
