"""Websocket fan-out: per-client bounded mailboxes, latest-wins per key, slow clients disconnected.

Following websockets' broadcast guidance (docs/topics/broadcast.rst): backpressure is right for one
client and wrong for thousands. Each client has a mailbox keyed by what the message is about (a zone
id, a station/kind): a newer message replaces an unsent older one of the same key, so a slow client
gets the coalesced latest state. A client whose mailbox stays full past ``stall_s`` is closed with a
reason. Each message is encoded once, whatever the number of clients.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(eq=False)
class Subscriber:
    """One websocket client's mailbox."""

    capacity: int
    accepts: Callable[[dict[str, object]], bool] = field(default=lambda _m: True)
    _box: OrderedDict[str, str] = field(default_factory=OrderedDict)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    full_since: float | None = None
    closed_reason: str | None = None
    #: Writes a frame now, without a task switch, when the connection is idle and writable
    #: (``websockets.broadcast`` style); returns False to fall back to the mailbox.
    direct: Callable[[str], bool] | None = None
    sending: bool = False  # the pump is sending a batch: keep order, queue behind it

    def offer(self, key: str, text: str) -> bool:
        """Send now if idle, else queue; False when the mailbox is full of other keys (behind)."""
        if self.direct is not None and not self._box and not self.sending and self.direct(text):
            return True
        if key in self._box:
            self._box[key] = text  # latest wins, keeps its place in the order
        elif len(self._box) >= self.capacity:
            if self.full_since is None:
                self.full_since = time.monotonic()
            return False
        else:
            self._box[key] = text
        self._ready.set()
        return True

    async def next_batch(self) -> list[str]:
        """Wait for at least one message; take everything queued."""
        await self._ready.wait()
        self._ready.clear()
        items = list(self._box.values())
        self._box.clear()
        self.full_since = None
        return items

    def close(self, reason: str) -> None:
        """End this subscription with ``reason``; the websocket sending loop sees it and closes."""
        self.closed_reason = reason
        self._ready.set()


def encode(message: object, *, ensure_ascii: bool = True) -> str:
    """Strict JSON, encoded once: non-finite numbers become null so no browser ever sees NaN."""
    try:
        return _dumps(message, ensure_ascii=ensure_ascii)
    except ValueError:
        return _dumps(_finite(message), ensure_ascii=ensure_ascii)


def _dumps(value: object, *, ensure_ascii: bool) -> str:
    return json.dumps(
        value, separators=(",", ":"), allow_nan=False, default=str, ensure_ascii=ensure_ascii
    )


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


HEARTBEAT = '{"type":"heartbeat"}'


class Hub:
    """Channels ('risk', 'feeds', 'alerts') with their subscribers."""

    def __init__(self, *, capacity: int, stall_s: float) -> None:
        self._capacity = capacity
        self._stall_s = stall_s
        self._channels: dict[str, set[Subscriber]] = {}

    def subscribe(
        self, channel: str, accepts: Callable[[dict[str, object]], bool] | None = None
    ) -> Subscriber:
        """A new subscriber to ``channel``, taking only the messages ``accepts`` lets through."""
        sub = Subscriber(self._capacity, accepts or (lambda _m: True))
        self._channels.setdefault(channel, set()).add(sub)
        return sub

    def unsubscribe(self, channel: str, sub: Subscriber) -> None:
        """Remove ``sub`` from ``channel``."""
        self._channels.get(channel, set()).discard(sub)

    def count(self, channel: str) -> int:
        """How many subscribers ``channel`` has."""
        return len(self._channels.get(channel, ()))

    def publish(self, channel: str, key: str, message: dict[str, object]) -> None:
        """Encode once, offer to every subscriber of the channel; close the ones stalled too long."""
        subs = self._channels.get(channel)
        if not subs:
            return
        text = encode(message)
        now = time.monotonic()
        for sub in list(subs):
            if sub.accepts(message):
                self._offer(subs, sub, key, text, now)

    def beat(self) -> None:
        """Offer a heartbeat to every client (filters do not apply); close the ones stalled too long.

        One timer for all clients instead of a timeout per client: a stalled client is found even
        when nothing else is published.
        """
        now = time.monotonic()
        for subs in self._channels.values():
            for sub in list(subs):
                self._offer(subs, sub, "heartbeat", HEARTBEAT, now)

    async def heartbeat(self, period_s: float) -> None:
        """Forever: a heartbeat to every client each ``period_s``."""
        while True:
            await asyncio.sleep(period_s)
            self.beat()

    def _offer(
        self, subs: set[Subscriber], sub: Subscriber, key: str, text: str, now: float
    ) -> None:
        if (
            not sub.offer(key, text)
            and sub.full_since is not None
            and now - sub.full_since > self._stall_s
        ):
            sub.close(f"client too slow: mailbox full for more than {self._stall_s:.0f} s")
            subs.discard(sub)
