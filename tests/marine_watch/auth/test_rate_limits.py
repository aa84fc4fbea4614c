"""Token buckets per client and the websocket cap per client."""

import pytest

from marine_watch.auth.rate_limits import ClientCaps, RateLimiter


def test_token_bucket_allows_a_burst_then_says_when_to_retry() -> None:
    """Burst requests pass; the next waits 1/rate s; other clients are not affected."""
    limiter = RateLimiter(rate_per_s=2.0, burst=3)
    assert [limiter.take("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", now=0.0) == pytest.approx(0.5)
    assert limiter.take("b", now=0.0) == 0.0
    assert limiter.take("a", now=0.5) == 0.0


def test_a_heavy_read_is_charged_after_the_fact_down_to_minus_one_burst() -> None:
    """charge() spends tokens already used; the client then waits for the refill."""
    limiter = RateLimiter(rate_per_s=1.0, burst=2)
    assert limiter.take("a", now=0.0) == 0.0
    limiter.charge("a", 100.0)  # floored at -burst
    assert limiter.take("a", now=0.0) == pytest.approx(3.0)
    limiter.charge("nobody", 5.0)  # a client without a bucket is not created by a charge
    assert limiter.take("nobody", now=0.0) == 0.0


def test_the_least_recently_seen_client_is_forgotten_beyond_the_bound() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1, max_clients=2)
    assert limiter.take("a", now=0.0) == 0.0
    assert limiter.take("b", now=0.0) == 0.0
    assert limiter.take("c", now=0.0) == 0.0  # "a" is dropped: its bucket starts full again
    assert limiter.take("a", now=0.0) == 0.0
    assert limiter.take("c", now=0.0) > 0.0


def test_websockets_per_client_are_capped_and_given_back() -> None:
    caps = ClientCaps(2)
    assert caps.take("x")
    assert caps.take("x")
    assert not caps.take("x")
    assert caps.take("y")
    caps.give_back("x")
    assert caps.take("x")
