"""Scoring a hindcast: UTC times and when a warning that stood was raised (whole runs are scored
in tests/marine_watch/hindcast/test_run.py)."""

import pytest

from marine_watch.hindcast.score import iso, warned_from


def test_times_are_iso_utc_with_z() -> None:
    assert iso(1_064_800_800.0) == "2003-09-29T02:00:00Z"
    assert iso(0.5) == "1970-01-01T00:00:00.500000Z"
    assert iso(None) is None


HISTORY = [(100.0, 1), (200.0, 2), (300.0, 3), (400.0, 1), (500.0, 2), (600.0, 0)]


@pytest.mark.parametrize(
    ("level", "seen_s", "expected"),
    [
        (2, 250.0, 200.0),  # the run at 2 or above that covers 250 started at 200
        (2, 350.0, 200.0),  # raised to 3 meanwhile: still the same run at 2 or above
        (3, 350.0, 300.0),
        (2, 450.0, 500.0),  # lowered to 1 before: the next raise to 2 is late
        (1, 650.0, None),  # cancelled at 600: nothing stood at 650, nothing raised after
        (4, 350.0, None),  # never warned red
        (2, None, 200.0),  # the water never got there: the first raise to 2 at all
        (3, None, 300.0),
        (2, 50.0, 200.0),  # seen before any warning: the first raise after it
    ],
)
def test_the_warning_that_stood_when_the_water_came(
    level: int, seen_s: float | None, expected: float | None
) -> None:
    assert warned_from(HISTORY, level, seen_s) == expected


def test_no_history_is_no_warning() -> None:
    assert warned_from([], 1, 100.0) is None
    assert warned_from([], 1, None) is None
