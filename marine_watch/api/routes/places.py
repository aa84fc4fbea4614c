"""Zones, dike segments and the resident lookup: what colour is it here, why, where is my shelter."""

from __future__ import annotations

import math
import weakref
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from marine_watch.api import answers
from marine_watch.api.answers.shapes import place_dict
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import RateLimited, check_rate
from marine_watch.hub import encode as encode_json
from marine_watch.risk.outlook import Outlook, place_outlook
from marine_watch.services import Services
from sensors.catalogue import Shelter, Zone

router = APIRouter(prefix="/api/v1", tags=["places"])
EARTH_RADIUS_M = 6_371_000.0
ROAD_NOTES_RADIUS_M = 3_000.0


def _feature(services: ServicesDep, zone: Zone) -> dict[str, object]:
    colour = services.pipeline.book.current.get(zone.id)
    props = {
        "id": zone.id,
        "region": zone.region,
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


# First in this router, which tries its routes in order: the busiest public route.
@router.get(
    "/risk",
    response_class=Response,
    responses={200: {"model": answers.RiskAnswer, "content": {"application/json": {}}}},
)
async def risk_here(
    request: Request,
    lat: Annotated[float, Query(ge=-90, le=90, description="WGS84 latitude")],
    lon: Annotated[float, Query(ge=-180, le=180, description="WGS84 longitude")],
) -> Response:
    """The colour where you stand, why, the zone chain, the outlook and the nearest shelters.

    The position is used for this answer only: it is never stored or logged. Fields: level,
    colour, explanation, no_data, no_data_since (members holding their last known level: station,
    hazard, level, ts_s, local HH:MM +08:00, reason), since_s, evaluated_s (service time of the
    evaluation answered from), advice (per hazard, en and zh, with
    its CAP responseType and SAMPLE tag), zone, chain, outlook (hourly slots; the first is the
    colour now), outlook_covers and outlook_not_covered (hazards the outlook forecasts, and those
    it cannot, with the reason: docs/WARNINGS.md), shelters, roads, freshness (the colours' age:
    colours_age_s, max_age_s, stale, stale_regions; an API node answers level -1 past max_age_s
    without its risk node), contact, sample.
    """
    return risk_response(request, lat, lon)


def risk_response(request: Request, lat: float, lon: float) -> Response:
    """The resident answer for a validated position (shared with the Starlette fast path)."""
    # The hot public route: services, rate limit and answer are reached without dependencies.
    services: Services = request.app.state.services
    check_rate(request, services)
    village = services.zones.village_at(lat, lon)
    if village is None:
        raise HTTPException(404, "position is outside the covered coast (Pinghu-like sample area)")
    answers = _ANSWERS.get(services)
    if answers is None:
        answers = _ANSWERS[services] = RiskAnswers(services)
    return Response(answers.body(village, lat, lon), media_type="application/json")


@router.get("/zones", dependencies=[RateLimited], response_model=answers.ZoneCollection)
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
    return {
        "type": "FeatureCollection",
        "features": feats,
        "freshness": services.pipeline.freshness(),
    }


@router.get("/zones/{zone_id}", dependencies=[RateLimited], response_model=answers.ZoneAnswer)
async def zone(zone_id: str, services: ServicesDep) -> dict[str, object]:
    """One zone as a GeoJSON Feature with its colour and explanation."""
    found = next((z for z in services.catalogue.zones if z.id == zone_id), None)
    if found is None:
        raise HTTPException(404, f"unknown zone {zone_id!r}")
    return {**_feature(services, found), "freshness": services.pipeline.freshness()}


@router.get("/segments", dependencies=[RateLimited], response_model=answers.SegmentCollection)
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
    return {
        "type": "FeatureCollection",
        "features": feats,
        "freshness": services.pipeline.freshness(),
    }


class RiskAnswers:
    """The resident answer of each village, encoded once per evaluation.

    Colour, explanation, chain, outlook, contact and sample depend on the village only, so they are
    encoded once after each evaluation (on first use); a request adds its shelters and road notes.
    """

    def __init__(self, services: Services) -> None:
        self._services = services
        self._source: object = None  # the assessments the cached parts were made from
        self._parts: dict[str, tuple[bytes, bytes]] = {}
        self._shelters = [
            (s.lat, s.lon, _json(_shelter_fields(s))[:-1] + ',"distance_m":')
            for s in services.catalogue.shelters
            if s.open
        ]

    def body(self, village: Zone, lat: float, lon: float) -> bytes:
        """The JSON answer for ``village`` seen from (lat, lon): nearest shelters, roads, freshness."""
        head, tail = self._village_parts(village)
        fresh = _json(self._services.pipeline.freshness()).encode()
        return b"".join(
            (
                head,
                self._nearest_shelters(lat, lon),
                b',"roads":',
                self._roads(lat, lon),
                b',"freshness":',
                fresh,
                tail,
            )
        )

    def _village_parts(self, village: Zone) -> tuple[bytes, bytes]:
        pipeline = self._services.pipeline
        if pipeline.evaluated_s is None:  # before the first evaluation the outlook starts now
            return self._encode(village)
        if pipeline.assessments is not self._source:  # a new dict per evaluation
            self._source = pipeline.assessments
            self._parts = {}
        parts = self._parts.get(village.id)
        if parts is None:
            parts = self._parts[village.id] = self._encode(village)
        return parts

    def _encode(self, village: Zone) -> tuple[bytes, bytes]:
        services = self._services
        colour = services.pipeline.book.current.get(village.id)
        hazard = (colour.driver or {}).get("hazard") if colour else None
        outlook = _outlook(services, village)
        head = {
            **place_dict(colour),
            "advice": services.catalogue.advice.resident(
                None if hazard is None else str(hazard), colour.level if colour else -1
            ),
            "zone": {"id": village.id, "name": village.name, "name_zh": village.name_zh},
            "chain": [
                {
                    "id": z.id,
                    "name": z.name,
                    "name_zh": z.name_zh,
                    "tier": z.tier.value,
                    **_level_of(services, z.id),
                }
                for z in services.zones.chain(village)
            ],
            "outlook": outlook.slots,
            "outlook_covers": outlook.covers,
            "outlook_not_covered": outlook.not_covered,
            # the service's time of the evaluation behind this answer (scenario time in the demo),
            # for "updated"; null before the first evaluation
            "evaluated_s": services.pipeline.evaluated_s,
        }
        tail = {
            "contact": village.contact.model_dump() if village.contact else None,
            "sample": village.sample,
        }
        return (
            (_json(head)[:-1] + ',"shelters":').encode(),
            ("," + _json(tail)[1:]).encode(),
        )

    def _nearest_shelters(self, lat: float, lon: float, n: int = 3) -> bytes:
        ranked = sorted(
            (
                (_distance_m(lat, lon, s_lat, s_lon), s_lat, s_lon, head)
                for s_lat, s_lon, head in self._shelters
            ),
            key=lambda x: x[0],
        )
        items = [
            f'{head}{round(d)},"bearing_deg":{round(_bearing(lat, lon, s_lat, s_lon))}}}'
            for d, s_lat, s_lon, head in ranked[:n]
        ]
        return f"[{','.join(items)}]".encode()

    def _roads(self, lat: float, lon: float) -> bytes:

        roads = self._services.roads
        if not roads.notes:
            return b"[]"
        return _json(roads.near(lat, lon, ROAD_NOTES_RADIUS_M)).encode()


def _json(value: object) -> str:
    r"""Strict JSON in UTF-8 text (not \u escapes), as FastAPI's own answers are."""
    return encode_json(value, ensure_ascii=False)


def _shelter_fields(s: Shelter) -> dict[str, object]:
    return {
        "id": s.id,
        "name": s.name,
        "name_zh": s.name_zh,
        "lat": s.lat,
        "lon": s.lon,
        "capacity": s.capacity,
        "address": s.address,
    }


def _level_of(services: ServicesDep, place: str) -> dict[str, object]:
    colour = services.pipeline.book.current.get(place)
    return {
        "level": colour.level if colour else -1,
        "colour": colour.colour if colour else "unknown",
    }


def _outlook(services: ServicesDep, village: Zone) -> Outlook:
    """The village's 24 h outlook over every hazard of its stations and dikes; slot 0 is now.

    Empty before the first evaluation: nothing is assessed yet, and the answer stays the same
    from one request to the next (it is encoded once per evaluation)."""
    pipeline = services.pipeline
    if pipeline.evaluated_s is None:
        return Outlook([], [], [])
    colour = pipeline.book.current.get(village.id)
    members = [
        a
        for (place, _), a in pipeline.assessments.items()
        if place in village.stations or place in village.segments
    ]
    hazard = (colour.driver or {}).get("hazard") if colour else None
    return place_outlook(
        colour.level if colour else -1,
        members,
        pipeline.evaluated_s,
        services.catalogue.rules.outlook_hours,
        None if hazard is None else str(hazard),
    )


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


#: The resident answers of each running app's services, made on first use.
_ANSWERS: weakref.WeakKeyDictionary[Services, RiskAnswers] = weakref.WeakKeyDictionary()
