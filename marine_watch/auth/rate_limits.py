"""Rate limits: a token bucket per client address, and a cap on open websockets per client.

Every public route spends a token (``api/security.py``); a heavy read is charged by its rows after
the fact, so a client that reads a year of history waits for the refill before its next request.
"""

import time
from collections import OrderedDict
from dataclasses import dataclass

MAX_BUCKETS = 100_000  # distinct client IPs remembered by the rate limiter (LRU beyond that)


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per client IP: ``rate_per_s`` refill, ``burst`` capacity, LRU-bounded."""

    def __init__(self, rate_per_s: float, burst: int, max_clients: int = MAX_BUCKETS) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._max = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str, now: float | None = None) -> float:
        """Spend one token; return 0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.pop(client, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate_per_s)
        bucket.at = now
        self._buckets[client] = bucket
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate_per_s

    def charge(self, client: str, cost: float) -> None:
        """Spend ``cost`` more tokens for work already done (a heavy read); the bucket may go below
        zero, down to minus one burst, so the caller waits for the refill before its next request."""
        bucket = self._buckets.get(client)
        if bucket is not None:
            bucket.tokens = max(-float(self.burst), bucket.tokens - cost)


class ClientCaps:
    """Open websockets per client address, capped (``ws_max_per_client``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def take(self, client: str) -> bool:
        """Count one more websocket of ``client``; False when it is at the limit."""
        n = self._open.get(client, 0)
        if n >= self.limit:
            return False
        self._open[client] = n + 1
        return True

    def give_back(self, client: str) -> None:
        """Count one websocket of ``client`` as closed."""
        n = self._open.get(client, 0) - 1
        if n > 0:
            self._open[client] = n
        else:
            self._open.pop(client, None)
