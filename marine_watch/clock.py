"""The service's notion of now: the wall clock, or a scaled clock for a time-compressed demo."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    """Where the service reads the time: the wall clock, or a scaled one for demos and hindcasts."""

    def now(self) -> float:
        """Seconds since the Unix epoch, UTC."""
        ...


class WallClock:
    """Real time."""

    def now(self) -> float:
        """Seconds since the Unix epoch, UTC."""
        return time.time()


@dataclass
class ScaledClock:
    """Scenario time that starts at ``start_s`` and runs ``speed`` times faster than the wall clock."""

    start_s: float
    speed: float
    _wall0: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        """Scenario seconds: ``start_s`` plus the monotonic time since start, times ``speed``."""
        return self.start_s + (time.monotonic() - self._wall0) * self.speed
