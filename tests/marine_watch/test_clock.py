"""The service's clocks: the wall clock, and scenario time that runs faster for the demo."""

import time

from marine_watch.clock import ScaledClock, WallClock


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
    before = time.monotonic() - wall0
    advanced = clock.now() - 1_000_000.0
    after = time.monotonic() - wall0
    assert 60.0 * before <= advanced <= 60.0 * after
    assert advanced >= 60.0 * 0.05


def test_a_scaled_clock_starts_counting_when_it_is_made() -> None:
    clock = ScaledClock(start_s=500.0, speed=1000.0)
    assert 500.0 <= clock.now() < 500.0 + 1000.0 * 1.0  # well under a wall second since
