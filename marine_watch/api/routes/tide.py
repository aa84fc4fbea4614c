"""Predicted astronomical tide of a station, for the dashboard's chart beside the observations."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Query

from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import RateLimited
from risk_models import tide

router = APIRouter(prefix="/api/v1", tags=["stations"], dependencies=[RateLimited])
MAX_POINTS = 20_000
HOUR_S = 3600.0


@router.get("/stations/{station_id}/tide", response_model=answers.PredictedTide)
async def predicted_tide(
    station_id: str,
    services: ServicesDep,
    from_: Annotated[
        datetime | None, Query(alias="from", description="RFC 3339; default 24 h before now")
    ] = None,
    to: Annotated[datetime | None, Query(description="RFC 3339; default 6 h after now")] = None,
    step_s: Annotated[float, Query(ge=60, le=86_400, description="seconds between points")] = 600,
) -> dict[str, object]:
    """Predicted tide (1985 datum, m) from the station's harmonic constants.

    ``gauge_to_85_m`` converts the station's readings to the same datum: z85 = z_gauge - offset.
    """
    station = services.catalogue.station(station_id)
    if station is None:
        raise HTTPException(404, f"unknown station {station_id!r}")
    constants = services.pipeline.assessor.constants.get(station_id)
    if constants is None:
        raise HTTPException(404, f"station {station_id!r} has no tide constants")
    now_s = services.clock.now()
    for name, value in (("from", from_), ("to", to)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, f"'{name}' needs a UTC offset, e.g. 2026-11-23T08:00:00Z")
    start = from_.timestamp() if from_ else now_s - 24 * HOUR_S
    end = to.timestamp() if to else now_s + 6 * HOUR_S
    if start >= end:
        raise HTTPException(422, "'from' must be before 'to'")
    if (end - start) / step_s > MAX_POINTS:
        raise HTTPException(422, f"more than {MAX_POINTS} points: use a larger step_s")
    times = np.arange(start, end + step_s / 2, step_s)
    loop = asyncio.get_running_loop()
    values = await loop.run_in_executor(services.numerics, tide.predict, constants, times)
    return {
        "station": station_id,
        "now_s": now_s,
        "from_s": start,
        "to_s": end,
        "step_s": step_s,
        "datum": "NVD1985",
        "gauge_to_85_m": station.gauge_to_85_m,
        "points": [
            {"ts": float(t), "value": round(float(v), 4)}
            for t, v in zip(times, values, strict=True)
        ],
    }
