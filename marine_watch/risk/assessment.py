"""One hazard at one place: the value the colour rules work on (shared by the assessors)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from risk_models.types import UNKNOWN, Hazard


@dataclass(frozen=True, slots=True)
class Assessment:
    """One hazard at one place (station or dike segment)."""

    place: str
    hazard: Hazard
    level: int  # UNKNOWN (-1) or 0..4
    explanation: Mapping[str, object]
    reason: str | None = None  # why UNKNOWN
    # hourly levels ahead from the evaluation time (marine_watch/risk/outlook.py); -1: no forecast that
    # hour; empty: this hazard is not forecast here
    outlook: tuple[int, ...] = ()
    data_s: float | None = None  # time of the newest reading it rests on
    water_hourly_m: tuple[float, ...] = ()  # overtopping: the hourly forecast water it used

    @property
    def key(self) -> str:
        """``place/hazard``: how a member of a zone is named."""
        return f"{self.place}/{self.hazard.value}"


@dataclass
class SurgeView:
    """What the surge assessment learnt, reused for overtopping."""

    water_m: float
    peak_time_s: float | None
    hourly_m: tuple[float, ...] = ()  # forecast hourly maximum water level ahead (m, 1985 datum)


def unknown(place: str, hazard: Hazard, reason: str) -> Assessment:
    """No data: UNKNOWN with the reason, never none (docs/DOMAIN.md §7)."""
    return Assessment(
        place,
        hazard,
        UNKNOWN,
        {
            "hazard": hazard.value,
            "station": place,
            "level": UNKNOWN,
            "colour": "unknown",
            "reason": reason,
        },
        reason=reason,
    )
