"""Stations and their readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import DutyOfficer, RateLimited, charge_rows
from sensors.reading import Kind

router = APIRouter(prefix="/api/v1", tags=["stations"], dependencies=[RateLimited])

MAX_SPAN = timedelta(days=400)
# The stores keep times as int64 ns since 1970: 1677-09-21 to 2262-04-11, with a day's margin.
EARLIEST = datetime(1677, 9, 23, tzinfo=UTC)
LATEST = datetime(2262, 4, 10, tzinfo=UTC)


@router.get("/stations", response_model=list[answers.StationAnswer])
async def list_stations(services: ServicesDep) -> list[dict[str, object]]:
    """Every station with position, kinds, warning tide levels (with status) and live status."""
    out = []
    for station in services.catalogue.stations:
        item = station.model_dump(mode="json")
        item.update(services.pipeline.station_summary(station.id))
        out.append(item)
    return out


@router.get("/stations/{station_id}", response_model=answers.StationAnswer)
async def get_station(station_id: str, services: ServicesDep) -> dict[str, object]:
    """One station."""
    station = services.catalogue.station(station_id)
    if station is None:
        raise HTTPException(404, f"unknown station {station_id!r}")
    return {**station.model_dump(mode="json"), **services.pipeline.station_summary(station_id)}


class LiftIn(BaseModel):
    """Why the held warning of a silent station no longer applies."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=500, examples=["Gauge repaired; tide falling"])


@router.post("/stations/{station_id}/lift", status_code=201, response_model=answers.Lifted)
async def lift(
    station_id: str, body: LiftIn, services: ServicesDep, who: DutyOfficer
) -> dict[str, object]:
    """Lift the last known levels a silent station holds (duty officer or admin; audited).

    Each of its hazards (and the overtopping of the seawalls its data feeds) is then shown at none,
    explained as lifted by you, until the station reports again. 409 when nothing is held.
    """
    if services.catalogue.station(station_id) is None:
        raise HTTPException(404, f"unknown station {station_id!r}")
    now_s = services.clock.now()
    members = await services.full.alerts.lift(station_id, who, body.note, now_s)
    if not members:
        raise HTTPException(409, f"station {station_id!r} holds no level: nothing to lift")
    by = f"{who.role.value}:{who.name}"
    return {"station": station_id, "lifted": members, "by": by, "note": body.note, "ts": now_s}


@router.get("/stations/{station_id}/readings", response_model=answers.Readings)
async def readings(  # noqa: PLR0917 - FastAPI route: each parameter is a path, query or dependency
    station_id: str,
    services: ServicesDep,
    request: Request,
    from_: Annotated[
        datetime | None, Query(alias="from", description="RFC 3339; default 24 h before `to`")
    ] = None,
    to: Annotated[datetime | None, Query(description="RFC 3339; default now")] = None,
    kind: Kind | None = None,
    every: Annotated[
        str | None,
        Query(pattern=r"^\d{1,9}[smhd]$", description="downsample to bucket means, e.g. 10m"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Response:
    """Readings read back from the store, oldest first; ``every`` downsamples on the server."""
    if services.catalogue.station(station_id) is None:
        raise HTTPException(404, f"unknown station {station_id!r}")
    end = _aware(to, "to") or datetime.fromtimestamp(services.clock.now(), UTC)
    start = _aware(from_, "from") or end - timedelta(hours=24)
    if start >= end:
        raise HTTPException(422, "'from' must be before 'to'")
    for name, moment in (("from", start), ("to", end)):
        if not EARLIEST <= moment <= LATEST:  # a default 24 h before an early 'to' included
            raise HTTPException(
                422, f"'{name}' must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}"
            )
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
    charge_rows(request, services, len(points))
    station = services.catalogue.station(station_id)
    assert station is not None
    datum = None
    if station.reading_datum is not None:  # tide readings are returned as received
        datum = {
            "kind": Kind.TIDE_LEVEL.value,
            "datum": station.reading_datum,
            "gauge_to_85_m": station.gauge_to_85_m,
            "to_nvd1985": "z_85 = value - gauge_to_85_m",
        }
    body = {
        "station": station_id,
        "tide_datum": datum,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "every_s": every_s,
        "points": [
            {"kind": p.kind, "ts": p.ts_ns / 1e9, "value": p.value, "qc": p.qc} for p in points
        ],
    }
    # Up to 100,000 points: encoded by msgspec, not FastAPI's per-item encoder, so a history
    # answer holds the event loop (and with it ingest) for milliseconds, not a large fraction of a second.
    return Response(msgspec.json.encode(body), media_type="application/json")


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise HTTPException(422, f"'{name}' needs a UTC offset, e.g. 2026-11-23T08:00:00Z")
    if value is not None and not EARLIEST <= value <= LATEST:
        msg = f"'{name}' must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (times are stored in int64 ns)"
        raise HTTPException(422, msg)
    return value


def _seconds(every: str) -> int:
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[every[-1]]
    seconds = int(every[:-1]) * unit
    if seconds <= 0:
        raise HTTPException(422, "'every' must be positive")
    if seconds > MAX_SPAN.total_seconds():
        raise HTTPException(422, f"'every' longer than {MAX_SPAN.days} days: use a shorter bucket")
    return seconds
