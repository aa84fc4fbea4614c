"""Signed requests: the HMAC-SHA256 scheme of webhook deliveries and of acknowledgements back.

``X-MarineWatch-Signature: sha256=HEX(HMAC-SHA256(secret, f"{timestamp}." + body))`` with
``X-MarineWatch-Timestamp`` in Unix seconds; receivers reject stale timestamps and repeats.
"""

import hashlib
import hmac
from collections import OrderedDict

SIGNATURE_HEADER = "X-MarineWatch-Signature"
TIMESTAMP_HEADER = "X-MarineWatch-Timestamp"
DELIVERY_HEADER = "X-MarineWatch-Delivery"
REPLAY_WINDOW_S = 300
SEEN_MAX = 10_000


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class ReplayGuard:
    """Verifies signed requests: fresh timestamp, matching HMAC, never seen before."""

    def __init__(self, window_s: float = REPLAY_WINDOW_S) -> None:
        self._window_s = window_s
        self._seen: OrderedDict[str, float] = OrderedDict()

    def check(
        self, secret: str, timestamp: str | None, signature: str | None, body: bytes, now_s: float
    ) -> str | None:
        """None when valid, else why not (for a 401)."""
        if not timestamp or not signature:
            return f"unsigned request: send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}"
        try:
            ts = int(timestamp)
        except ValueError:
            return f"{TIMESTAMP_HEADER} must be Unix seconds"
        if abs(now_s - ts) > self._window_s:
            return f"timestamp outside the {self._window_s:.0f} s window (clock skew or replay)"
        if not hmac.compare_digest(sign(secret, ts, body), signature):
            return "bad signature"
        if signature in self._seen:
            return "replayed request: this signature was already used"
        self._seen[signature] = now_s
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        return None
