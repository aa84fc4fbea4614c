"""Colours of places: dike segments, then village → town → city, with a minimum hold time.

A village's level is the max over the hazards of its stations and its dike segments; a parent's is
the max of its children (DOMAIN.md §7), keeping the argmax so the explanation says what drove it.
No data is not none: unknown members are reported beside the known max. Colours rise at once and
fall only after the lower level has held for ``hold_time_s`` (SAMPLE policy, config/thresholds.toml).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from marine_watch.hazards import Assessment
from risk_models.levels import COLOUR_OF_CODE
from risk_models.types import UNKNOWN
from sensors.catalogue import Catalogue, Tier, Zone


@dataclass(frozen=True, slots=True)
class PlaceColour:
    """The shown colour of a zone or segment and why."""

    id: str
    kind: str  # "zone" | "segment"
    tier: str | None
    level: int
    colour: str
    driver: dict[str, object] | None  # the assessment that drove the level
    unknown: tuple[str, ...]  # members without data, with reasons
    since_s: float
    held: dict[str, object] | None = None  # set while a higher colour is held (anti-flap)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "tier": self.tier,
            "level": self.level,
            "colour": self.colour,
            "explanation": self.driver,
            "no_data": list(self.unknown),
            "since_s": self.since_s,
        }


@dataclass
class _Held:
    level: int
    since_s: float
    driver: dict[str, object] | None
    below_since_s: float | None = None


@dataclass
class ZoneBook:
    """Aggregates assessments into place colours and reports changes."""

    catalogue: Catalogue
    hold_time_s: float
    _held: dict[str, _Held] = field(default_factory=dict)
    current: dict[str, PlaceColour] = field(default_factory=dict)

    def __post_init__(self) -> None:
        zones = self.catalogue.zones
        self._children = {z.id: [c.id for c in zones if c.parent == z.id] for z in zones}
        self._order = [
            z for t in (Tier.VILLAGE, Tier.TOWN, Tier.CITY) for z in zones if z.tier == t
        ]

    def update(self, assessments: Iterable[Assessment], now_s: float) -> list[PlaceColour]:
        """Recompute every place; return those whose shown level changed."""
        by_place: dict[str, list[Assessment]] = {}
        for a in assessments:
            by_place.setdefault(a.place, []).append(a)
        raw: dict[str, tuple[int, dict[str, object] | None, tuple[str, ...]]] = {}
        for seg in self.catalogue.segments:
            raw[seg.id] = _max_of(by_place.get(seg.id, []))
        for zone in self._order:
            raw[zone.id] = self._zone_raw(zone, by_place, raw)
        changed = []
        for place, (level, driver, unknown) in raw.items():
            shown = self._hold(place, level, driver, now_s)
            kind, tier = self._kind_tier(place)
            held: dict[str, object] | None = None
            if shown.level != level:  # the explanation is the one that set the held colour
                driver = shown.driver
                lower_at = (shown.below_since_s or now_s) + self.hold_time_s
                held = {
                    "current_level": level,
                    "lower_after_s": lower_at,
                    "hold_time_s": self.hold_time_s,
                }
            colour = PlaceColour(
                place,
                kind,
                tier,
                shown.level,
                COLOUR_OF_CODE[shown.level + 1],
                driver,
                unknown,
                shown.since_s,
                held,
            )
            previous = self.current.get(place)
            self.current[place] = colour
            if previous is None or previous.level != colour.level:
                changed.append(colour)
        return changed

    def _zone_raw(
        self,
        zone: Zone,
        by_place: dict[str, list[Assessment]],
        raw: dict[str, tuple[int, dict[str, object] | None, tuple[str, ...]]],
    ) -> tuple[int, dict[str, object] | None, tuple[str, ...]]:
        members = [a for s in zone.stations for a in by_place.get(s, [])]
        members += [a for s in zone.segments for a in by_place.get(s, [])]
        level, driver, unknown = _max_of(members)
        for child in self._children[zone.id]:
            c_level, c_driver, c_unknown = raw[child]
            unknown = unknown + tuple(f"{child}: {u}" for u in c_unknown)
            if c_level > level:
                level = c_level
                driver = {**(c_driver or {}), "via": child}
        return level, driver, unknown

    def _hold(
        self, place: str, level: int, driver: dict[str, object] | None, now_s: float
    ) -> _Held:
        held = self._held.get(place)
        if held is None or level >= held.level:
            if held is None or level > held.level:
                held = self._held[place] = _Held(level, now_s, driver)
            held.driver = driver  # same level: keep the newest explanation
            held.below_since_s = None
            return held
        if held.below_since_s is None:
            held.below_since_s = now_s
        if now_s - held.below_since_s >= self.hold_time_s:
            held = self._held[place] = _Held(level, now_s, driver)
        return held

    def _kind_tier(self, place: str) -> tuple[str, str | None]:
        zone = next((z for z in self.catalogue.zones if z.id == place), None)
        return ("zone", zone.tier.value) if zone else ("segment", None)


def _max_of(members: list[Assessment]) -> tuple[int, dict[str, object] | None, tuple[str, ...]]:
    known = [a for a in members if a.level != UNKNOWN]
    unknown = tuple(
        f"{a.place}/{a.hazard.value}: {a.reason}" for a in members if a.level == UNKNOWN
    )
    if not known:
        return (UNKNOWN if members else 0), None, unknown
    best = max(known, key=lambda a: a.level)
    return best.level, dict(best.explanation), unknown


class ZoneIndex:
    """Point-in-polygon lookup of the finest zone (village) at a position."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._zones = {z.id: z for z in catalogue.zones}
        villages = [z for z in catalogue.zones if z.tier == Tier.VILLAGE]
        self._villages = villages
        # Prepared polygons tested all at once: ~1 µs a lookup against ~10 µs for a Point + STRtree
        # query at the sample's size; the boundary counts as inside, as `intersects` did.
        self._polys = np.array(
            [Polygon(v.polygon[0], v.polygon[1:]) for v in villages], dtype=object
        )
        shapely.prepare(self._polys)
        self.polygons = {z.id: Polygon(z.polygon[0], z.polygon[1:]) for z in catalogue.zones}

    def village_at(self, lat: float, lon: float) -> Zone | None:
        hits = np.flatnonzero(shapely.intersects_xy(self._polys, lon, lat))
        return self._villages[int(hits[0])] if hits.size else None

    def chain(self, zone: Zone) -> list[Zone]:
        """The zone and its ancestors: village → town → city."""
        out = [zone]
        while out[-1].parent:
            out.append(self._zones[out[-1].parent])
        return out
