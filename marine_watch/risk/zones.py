"""Colours of places: dike segments, then village → town → city, with a minimum hold time.

A village's level is the max over the hazards of its stations and its dike segments; a parent's is
the max of its children (DOMAIN.md §7), keeping the argmax so the explanation says what drove it.
No data is not none: unknown members are reported beside the known max, and a member whose data
stopped holds its last known level (:mod:`marine_watch.risk.last_known`), listed in ``no_data_since``. Colours
rise at once and fall only after the lower level has held for ``hold_time_s`` (SAMPLE policy,
config/thresholds.toml).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from marine_watch.risk.assessment import Assessment
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
    unknown_keys: frozenset[str] = frozenset()  # members (place/hazard) without data or level
    no_data_since: tuple[dict[str, object], ...] = ()  # members holding their last known level

    def to_dict(self) -> dict[str, object]:
        """The zone colour as the API and websocket send it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "tier": self.tier,
            "level": self.level,
            "colour": self.colour,
            "explanation": self.driver,
            "no_data": list(self.unknown),
            "no_data_since": list(self.no_data_since),
            "since_s": self.since_s,
        }


@dataclass(frozen=True, slots=True)
class _Raw:
    """A place's level before the hold time, with its driver and its members without data."""

    level: int
    driver: dict[str, object] | None
    unknown: tuple[str, ...] = ()
    unknown_keys: frozenset[str] = frozenset()
    no_data_since: tuple[dict[str, object], ...] = ()


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
        raw: dict[str, _Raw] = {}
        for seg in self.catalogue.segments:
            raw[seg.id] = _max_of(by_place.get(seg.id, []))
        for zone in self._order:
            raw[zone.id] = self._zone_raw(zone, by_place, raw)
        changed = []
        for place, r in raw.items():
            level, driver = r.level, r.driver
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
                r.unknown,
                shown.since_s,
                held,
                r.unknown_keys,
                r.no_data_since,
            )
            previous = self.current.get(place)
            self.current[place] = colour
            if (
                previous is None
                or previous.level != colour.level
                or _held(previous) != _held(colour)
            ):
                changed.append(colour)  # a colour change, or a member starts or stops holding
        return changed

    def _zone_raw(
        self, zone: Zone, by_place: dict[str, list[Assessment]], raw: dict[str, _Raw]
    ) -> _Raw:
        members = [a for s in zone.stations for a in by_place.get(s, [])]
        members += [a for s in zone.segments for a in by_place.get(s, [])]
        own = _max_of(members)
        level, driver = own.level, own.driver
        unknown, keys, since = list(own.unknown), set(own.unknown_keys), list(own.no_data_since)
        for child in self._children[zone.id]:
            c = raw[child]
            unknown += [f"{child}: {u}" for u in c.unknown]
            keys |= c.unknown_keys
            since += [s for s in c.no_data_since if s not in since]
            if c.level > level:
                level = c.level
                driver = {**(c.driver or {}), "via": child}
        return _Raw(level, driver, tuple(unknown), frozenset(keys), tuple(since))

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


def _held(colour: PlaceColour) -> set[object]:
    return {m.get("member") for m in colour.no_data_since}


def _max_of(members: list[Assessment]) -> _Raw:
    known = [a for a in members if a.level != UNKNOWN]
    missing = [a for a in members if a.level == UNKNOWN]
    held = [a for a in known if a.explanation.get("held")]
    unknown = tuple(f"{a.key}: {a.reason}" for a in missing) + tuple(
        f"{a.key}: {a.reason} (its last known level is kept)" for a in held
    )
    since = tuple(
        {
            "member": a.key,
            "station": a.place,
            "hazard": a.hazard.value,
            "level": a.level,
            "colour": COLOUR_OF_CODE[a.level + 1],
            **dict(a.explanation["no_data_since"]),  # type: ignore[call-overload]
        }
        for a in held
    )
    keys = frozenset(a.key for a in missing)
    if not known:
        return _Raw(UNKNOWN if members else 0, None, unknown, keys, since)
    best = max(known, key=lambda a: a.level)
    return _Raw(best.level, dict(best.explanation), unknown, keys, since)


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
        """The village whose polygon holds (lat, lon), or None."""
        hits = np.flatnonzero(shapely.intersects_xy(self._polys, lon, lat))
        return self._villages[int(hits[0])] if hits.size else None

    def chain(self, zone: Zone) -> list[Zone]:
        """The zone and its ancestors: village → town → city."""
        out = [zone]
        while out[-1].parent:
            out.append(self._zones[out[-1].parent])
        return out
