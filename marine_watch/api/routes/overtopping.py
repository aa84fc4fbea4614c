"""The overtopping calculator (漫堤计算): a dike segment's discharge under current or given conditions."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import RateLimited
from marine_watch.risk.dikes import OutsideValidity, assess_segment
from sensors.catalogue import DikeSegment
from sensors.reading import Kind

router = APIRouter(prefix="/api/v1", tags=["places"], dependencies=[RateLimited])


class Conditions(BaseModel):
    """Sea state at the dike; any field left out is taken from the live readings."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    water_m: float | None = Field(default=None, ge=-10, le=20, description="still water, m NVD1985")
    hm0_m: float | None = Field(default=None, gt=0, le=20, description="Hm0 at the toe, m")
    tp_s: float | None = Field(default=None, gt=0, le=30, description="peak period, s")


def _segment(services: ServicesDep, segment_id: str) -> DikeSegment:
    seg = next((s for s in services.catalogue.segments if s.id == segment_id), None)
    if seg is None:
        raise HTTPException(404, f"unknown dike segment {segment_id!r}")
    return seg


def _current(services: ServicesDep, seg: DikeSegment, given: Conditions) -> dict[str, float]:
    state, now = services.pipeline.state, services.clock.now()
    out: dict[str, float] = {}
    station = services.catalogue.station(seg.tide_station)
    sources = {
        "water_m": (seg.tide_station, Kind.TIDE_LEVEL, station.gauge_to_85_m if station else 0.0),
        "hm0_m": (seg.wave_station, Kind.WAVE_HEIGHT, 0.0),
        "tp_s": (seg.wave_station, Kind.WAVE_PERIOD, 0.0),
    }
    for name, (where, kind, offset) in sources.items():
        value = getattr(given, name)
        if value is None:
            latest = state.latest(where, kind, now_s=now, max_age_s=3 * 3600.0)
            if latest is None:
                msg = f"no recent {kind.value} at {where}: give {name} explicitly"
                raise HTTPException(422, msg)
            value = latest[1] - offset
        out[name] = float(value)
    return out


def _answer(services: ServicesDep, seg: DikeSegment, given: Conditions) -> dict[str, object]:
    inputs = _current(services, seg, given)
    table = services.catalogue.rules.overtopping_lps_per_m
    try:
        _, body = assess_segment(seg, table, **inputs)
    except OutsideValidity as exc:
        raise HTTPException(422, f"outside EurOtop 2018 validity: {exc}") from None
    return {**body, "inputs": inputs, "segment_status": seg.status}


@router.get("/segments/{segment_id}/overtopping", response_model=answers.Overtopping)
async def overtopping_now(
    segment_id: str,
    services: ServicesDep,
    water_m: Annotated[float | None, Query(ge=-10, le=20)] = None,
    hm0_m: Annotated[float | None, Query(gt=0, le=20)] = None,
    tp_s: Annotated[float | None, Query(gt=0, le=30)] = None,
) -> dict[str, object]:
    """Mean overtopping discharge (EurOtop 2018) now, or with the conditions given."""
    seg = _segment(services, segment_id)
    return _answer(services, seg, Conditions(water_m=water_m, hm0_m=hm0_m, tp_s=tp_s))


@router.post("/segments/{segment_id}/overtopping", response_model=answers.Overtopping)
async def overtopping_given(
    segment_id: str, body: Conditions, services: ServicesDep
) -> dict[str, object]:
    """The same, conditions in the body."""
    return _answer(services, _segment(services, segment_id), body)
