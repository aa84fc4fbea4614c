"""Road notes from duty officers: closed or flooded roads, shown to residents near them."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import DutyOfficer, RateLimited
from marine_watch.inputs.road_notes import RoadNotes, RoadState

router = APIRouter(prefix="/api/v1")
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
#: Points of one LineString road note: at least a segment, at most a long road traced closely.
LINE_POINTS = (2, 1000)


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
        if not is_point and not LINE_POINTS[0] <= len(self.coordinates) <= LINE_POINTS[1]:
            msg = "a LineString needs 2 to 1000 positions"
            raise ValueError(msg)
        return self

    def points(self) -> tuple[tuple[float, float], ...]:
        """The note's coordinates as a tuple of (lon, lat) points."""
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
