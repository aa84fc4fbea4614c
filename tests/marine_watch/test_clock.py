"""The service's clocks: the wall clock, and scenario time that runs faster for the demo."""

import time

import pytest

from marine_watch.clock import Clock, ScaledClock, WallClock


def test_the_wall_clock_is_unix_time() -> None:
    before = time.time()
    now = WallClock().now()
    assert before <= now <= time.time()


def test_a_scaled_clock_starts_at_its_start_and_runs_speed_times_faster() -> None:
    """Started at a scenario time, it advances ``speed`` scenario seconds per wall second."""
    wall0 = time.monotonic()
    clock = ScaledClock(start_s=1_000_000.0, speed=60.0, _wall0=wall0)
    assert clock.now() >= 1_000_000.0
    time.sleep(0.05)
    elapsed = time.monotonic() - wall0
    now = clock.now()
    assert now - 1_000_000.0 == pytest.approx(60.0 * elapsed, abs=60.0 * 0.02)
    assert now - 1_000_000.0 >= 60.0 * 0.05


def test_a_clock_is_anything_with_now() -> None:
    clocks: list[Clock] = [WallClock(), ScaledClock(0.0, 1.0)]
    assert all(isinstance(c.now(), float) for c in clocks)
