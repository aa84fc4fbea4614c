"""Inputs from people: road notes from duty officers, forecasts from the forecast office."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import DutyOfficer, Forecaster, RateLimited
from marine_watch.auth.keys import Principal
from marine_watch.inputs.forecasts import (
    ForecastIn,
    WindForecastIn,
    forecast_dict,
    wind_forecast_dict,
)
from marine_watch.inputs.road_notes import RoadNotes, RoadState
from marine_watch.inputs.wave_forecasts import WaveForecastIn, wave_forecast_dict
from marine_watch.services import Services

router = APIRouter(prefix="/api/v1")
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]


class GeometryIn(BaseModel):
    """GeoJSON Point or LineString (lon, lat)."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(pattern="^(Point|LineString)$")
    coordinates: tuple[Lon, Lat] | list[tuple[Lon, Lat]]

    @model_validator(mode="after")
    def _shape(self) -> "GeometryIn":
        is_point = isinstance(self.coordinates, tuple)
        if (self.type == "Point") != is_point:
            msg = "a Point has [lon, lat]; a LineString has [[lon, lat], ...]"
            raise ValueError(msg)
        if not is_point and not 2 <= len(self.coordinates) <= 1000:
            msg = "a LineString needs 2 to 1000 positions"
            raise ValueError(msg)
        return self

    def points(self) -> tuple[tuple[float, float], ...]:
        if isinstance(self.coordinates, tuple):
            return (self.coordinates,)
        return tuple(self.coordinates)


class RoadNoteIn(BaseModel):
    """A road closed or flooded, with where and what."""

    model_config = ConfigDict(extra="forbid")
    state: RoadState
    text: str = Field(min_length=1, max_length=500)
    geometry: GeometryIn
    ttl_s: float | None = Field(default=None, gt=0, le=30 * 86400, description="expires after")


def _roads(services: ServicesDep) -> RoadNotes:
    return services.roads


@router.post("/roads", tags=["roads"], status_code=201, response_model=answers.RoadNote)
async def add_road(body: RoadNoteIn, services: ServicesDep, who: DutyOfficer) -> dict[str, object]:
    """Post a road note; residents looking up a position nearby see it."""
    note = await _roads(services).add(
        body.state, body.text, body.geometry.points(), who.name, body.ttl_s
    )
    return note.to_dict()


@router.get("/roads", tags=["roads"], dependencies=[RateLimited], response_model=answers.RoadNotes)
async def list_roads(services: ServicesDep) -> dict[str, object]:
    """Current road notes as GeoJSON-like items (public)."""
    items = [n.to_dict() for n in _roads(services).current()]
    return {"count": len(items), "items": items}


@router.delete("/roads/{note_id}", tags=["roads"], status_code=204, response_class=Response)
async def remove_road(
    note_id: Annotated[int, Path(ge=1)], services: ServicesDep, _who: DutyOfficer
) -> Response:
    """Remove a road note."""
    if not await _roads(services).remove(note_id):
        raise HTTPException(404, f"unknown road note {note_id}")
    return Response(status_code=204)


@router.post(
    "/forecasts",
    tags=["forecasts"],
    status_code=201,
    response_model=answers.SurgeForecastMade,
)
async def post_forecast(
    body: ForecastIn, services: ServicesDep, who: Forecaster
) -> dict[str, object]:
    """A storm-surge forecast for one station: with readings the higher of it and persistence sets
    the colour, without readings the forecast alone (every high water within the 24 h outlook).

    422 when ``issued`` is in the future (beyond the clock tolerance) or older than the maximum
    age. The public sees the key's forecaster name (config/mqtt_accounts.toml), not ``source``."""
    book = services.full.forecasts
    return _accepted(services, who, lambda source: forecast_dict(book.put(body, source)))


@router.get(
    "/forecasts",
    tags=["forecasts"],
    dependencies=[RateLimited],
    response_model=list[answers.SurgeForecast],
)
async def list_forecasts(services: ServicesDep) -> list[dict[str, object]]:
    """The latest external forecast of each station."""
    return [forecast_dict(f) for f in services.full.forecasts.latest.values()]


@router.post(
    "/forecasts/wind",
    tags=["forecasts"],
    status_code=201,
    response_model=answers.WindForecastMade,
)
async def post_wind_forecast(
    body: WindForecastIn, services: ServicesDep, who: Forecaster
) -> dict[str, object]:
    """A typhoon wind forecast for one station: the CMA typhoon signal criteria with their lead
    times (24/24/12/6 h) then set its wind colour, with or without its own readings."""
    book = services.full.forecasts
    return _accepted(services, who, lambda source: wind_forecast_dict(book.put_wind(body, source)))


@router.get(
    "/forecasts/wind",
    tags=["forecasts"],
    dependencies=[RateLimited],
    response_model=list[answers.WindForecast],
)
async def list_wind_forecasts(services: ServicesDep) -> list[dict[str, object]]:
    """The latest typhoon wind forecast of each station."""
    book = services.full.forecasts
    return [wind_forecast_dict(f) for f in book.wind.values()]


@router.post(
    "/forecasts/waves",
    tags=["forecasts"],
    status_code=201,
    response_model=answers.WaveForecastMade,
)
async def post_wave_forecast(
    body: WaveForecastIn, services: ServicesDep, who: Forecaster
) -> dict[str, object]:
    """A wave forecast (Hs, Tp) for one wave station: it sets the waves colour (the higher of it and
    the observations, docs/DOMAIN.md §1.6), their outlook, and the overtopping outlook of the dikes
    that station serves, with or without its own readings."""
    book = services.full.forecasts
    return _accepted(services, who, lambda source: wave_forecast_dict(book.put_waves(body, source)))


@router.get(
    "/forecasts/waves",
    tags=["forecasts"],
    dependencies=[RateLimited],
    response_model=list[answers.WaveForecast],
)
async def list_wave_forecasts(services: ServicesDep) -> list[dict[str, object]]:
    """The latest wave forecast of each station."""
    book = services.full.forecasts
    return [wave_forecast_dict(f) for f in book.waves.values()]


def _accepted(
    services: "Services", who: Principal, put: Callable[[str], dict[str, object]]
) -> dict[str, object]:
    """Keep a forecast under the sender's public name (``put(source)`` answers it), or 422 with the
    reason it is not believable; then evaluate at once."""
    source = services.full.forecasters.source_of(who.name)
    try:
        answer = put(source)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    services.pipeline.request_evaluation()
    return {**answer, "by": who.name}
