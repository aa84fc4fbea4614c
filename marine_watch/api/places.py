"""Zones, dike segments and the resident lookup: what colour is it here, why, where is my shelter."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from marine_watch.api.deps import ServicesDep
from marine_watch.api.extras import extra
from marine_watch.api.security import RateLimited
from marine_watch.app_types import place_dict
from sensors.catalogue import Zone

router = APIRouter(prefix="/api/v1", tags=["places"], dependencies=[RateLimited])
EARTH_RADIUS_M = 6_371_000.0
ROAD_NOTES_RADIUS_M = 3_000.0


def _feature(services: ServicesDep, zone: Zone) -> dict[str, object]:
    colour = services.pipeline.book.current.get(zone.id)
    props = {
        "id": zone.id,
        "name": zone.name,
        "name_zh": zone.name_zh,
        "tier": zone.tier.value,
        "parent": zone.parent,
        "geocode": zone.geocode,
        "sample": zone.sample,
        "contact": zone.contact.model_dump() if zone.contact else None,
        **place_dict(colour),
    }
    return {
        "type": "Feature",
        "id": zone.id,
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": zone.polygon},
    }


@router.get("/zones")
async def zones(
    services: ServicesDep,
    tier: Annotated[str | None, Query(pattern="^(city|town|village)$")] = None,
) -> dict[str, object]:
    """All zones as a GeoJSON FeatureCollection with their current colours."""
    feats = [
        _feature(services, z)
        for z in services.catalogue.zones
        if tier is None or z.tier.value == tier
    ]
    return {"type": "FeatureCollection", "features": feats}


@router.get("/zones/{zone_id}")
async def zone(zone_id: str, services: ServicesDep) -> dict[str, object]:
    """One zone as a GeoJSON Feature with its colour and explanation."""
    found = next((z for z in services.catalogue.zones if z.id == zone_id), None)
    if found is None:
        raise HTTPException(404, f"unknown zone {zone_id!r}")
    return _feature(services, found)


@router.get("/segments")
async def segments(services: ServicesDep) -> dict[str, object]:
    """Dike segments as GeoJSON lines with their overtopping colour."""
    feats = []
    for seg in services.catalogue.segments:
        props = {
            "id": seg.id,
            "name": seg.name,
            "name_zh": seg.name_zh,
            "use": seg.use,
            "crest_level_m": seg.crest_level_m,
            "structure": seg.structure,
            "status": seg.status,
            **place_dict(services.pipeline.book.current.get(seg.id)),
        }
        feats.append(
            {
                "type": "Feature",
                "id": seg.id,
                "properties": props,
                "geometry": {"type": "LineString", "coordinates": seg.line},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


@router.get("/risk")
async def risk_here(
    services: ServicesDep,
    lat: Annotated[float, Query(ge=-90, le=90, description="WGS84 latitude")],
    lon: Annotated[float, Query(ge=-180, le=180, description="WGS84 longitude")],
) -> dict[str, object]:
    """The colour where you stand, why, the zone chain, the outlook and the nearest shelters.

    The position is used for this answer only: it is never stored or logged.
    """
    village = services.zones.village_at(lat, lon)
    if village is None:
        raise HTTPException(404, "position is outside the covered coast (Pinghu-like sample area)")
    chain = services.zones.chain(village)
    colour = services.pipeline.book.current.get(village.id)
    return {
        **place_dict(colour),
        "zone": {"id": village.id, "name": village.name, "name_zh": village.name_zh},
        "chain": [
            {
                "id": z.id,
                "name": z.name,
                "name_zh": z.name_zh,
                "tier": z.tier.value,
                **_level_of(services, z.id),
            }
            for z in chain
        ],
        "outlook": _outlook(services, village),
        "shelters": _nearest_shelters(services, lat, lon),
        "roads": _roads_near(services, lat, lon),
        "contact": village.contact.model_dump() if village.contact else None,
        "sample": village.sample,
    }


def _roads_near(services: ServicesDep, lat: float, lon: float) -> list[dict[str, object]]:
    from marine_watch.roads import RoadNotes

    return extra(services, "roads", RoadNotes).near(lat, lon, ROAD_NOTES_RADIUS_M)


def _level_of(services: ServicesDep, place: str) -> dict[str, object]:
    colour = services.pipeline.book.current.get(place)
    return {
        "level": colour.level if colour else -1,
        "colour": colour.colour if colour else "unknown",
    }


def _outlook(services: ServicesDep, village: Zone) -> list[dict[str, object]]:
    """Hourly storm-surge outlook of the village's tide stations (max over them)."""
    hours: list[int] = []
    for station in village.stations:
        assessment = services.pipeline.assessments.get((station, "storm_surge"))
        if assessment and assessment.outlook:
            hours = (
                [max(a, b) for a, b in zip(hours, assessment.outlook, strict=False)]
                if hours
                else list(assessment.outlook)
            )
    start = services.pipeline.evaluated_s or services.clock.now()
    return [{"hour": i, "ts": start + 3600 * i, "level": lv} for i, lv in enumerate(hours)]


def _nearest_shelters(
    services: ServicesDep, lat: float, lon: float, n: int = 3
) -> list[dict[str, object]]:
    ranked = sorted(
        ((_distance_m(lat, lon, s.lat, s.lon), s) for s in services.catalogue.shelters if s.open),
        key=lambda x: x[0],
    )
    return [
        {
            "id": s.id,
            "name": s.name,
            "name_zh": s.name_zh,
            "lat": s.lat,
            "lon": s.lon,
            "capacity": s.capacity,
            "address": s.address,
            "distance_m": round(d),
            "bearing_deg": round(_bearing(lat, lon, s.lat, s.lon)),
        }
        for d, s in ranked[:n]
    ]


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360) % 360
