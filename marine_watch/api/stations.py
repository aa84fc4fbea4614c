"""Stations and their readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from marine_watch.api.deps import ServicesDep
from sensors.reading import Kind

router = APIRouter(prefix="/api/v1", tags=["stations"])
MAX_SPAN = timedelta(days=400)


@router.get("/stations")
async def list_stations(services: ServicesDep) -> list[dict[str, object]]:
    """Every station with position, kinds, warning tide levels (with status) and live status."""
    out = []
    for station in services.catalogue.stations:
        item = station.model_dump(mode="json")
        item.update(services.pipeline.station_summary(station.id))
        out.append(item)
    return out


@router.get("/stations/{station_id}")
async def get_station(station_id: str, services: ServicesDep) -> dict[str, object]:
    """One station."""
    station = services.catalogue.station(station_id)
    if station is None:
        raise HTTPException(404, f"unknown station {station_id!r}")
    return {**station.model_dump(mode="json"), **services.pipeline.station_summary(station_id)}


@router.get("/stations/{station_id}/readings")
async def readings(
    station_id: str,
    services: ServicesDep,
    from_: Annotated[
        datetime | None, Query(alias="from", description="RFC 3339; default 24 h before `to`")
    ] = None,
    to: Annotated[datetime | None, Query(description="RFC 3339; default now")] = None,
    kind: Kind | None = None,
    every: Annotated[
        str | None,
        Query(pattern=r"^\d+[smhd]$", description="downsample to bucket means, e.g. 10m"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> dict[str, object]:
    """Readings read back from the store, oldest first; ``every`` downsamples on the server."""
    if services.catalogue.station(station_id) is None:
        raise HTTPException(404, f"unknown station {station_id!r}")
    end = _aware(to, "to") or datetime.fromtimestamp(services.clock.now(), UTC)
    start = _aware(from_, "from") or end - timedelta(hours=24)
    if start >= end:
        raise HTTPException(422, "'from' must be before 'to'")
    if end - start > MAX_SPAN:
        raise HTTPException(422, f"span longer than {MAX_SPAN.days} days: use a shorter range")
    every_s = _seconds(every) if every else None
    points = await services.store.query(
        station_id,
        kind.value if kind else None,
        int(start.timestamp() * 1e9),
        int(end.timestamp() * 1e9),
        every_s=every_s,
        limit=limit,
    )
    return {
        "station": station_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "every_s": every_s,
        "points": [
            {"kind": p.kind, "ts": p.ts_ns / 1e9, "value": p.value, "qc": p.qc} for p in points
        ],
    }


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise HTTPException(422, f"'{name}' needs a UTC offset, e.g. 2026-11-23T08:00:00Z")
    return value


def _seconds(every: str) -> int:
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[every[-1]]
    seconds = int(every[:-1]) * unit
    if seconds <= 0:
        raise HTTPException(422, "'every' must be positive")
    return seconds
