"""Road notes: kept in SQLite across restarts, found near a position, gone when expired."""

import time
from pathlib import Path

from marine_watch.inputs.road_notes import RoadNotes, RoadState

# A line along the seawall road in Zhapu (lon, lat) and a point 1 km further east.
SEAWALL = ((121.070, 30.600), (121.080, 30.600))
EAST = ((121.104, 30.600),)


async def test_notes_survive_a_restart_and_removal_sticks(tmp_path: Path) -> None:
    """Added notes are read back by a new instance; a removed one stays removed."""
    notes = RoadNotes(tmp_path / "roads.sqlite3")
    await notes.open()
    line = await notes.add(RoadState.FLOODED, "seawall road under water", SEAWALL, "ops", None)
    point = await notes.add(RoadState.CLOSED, "bridge closed", EAST, "ops", 3600.0)
    assert line.id != point.id
    assert await notes.remove(point.id) is True
    assert await notes.remove(point.id) is False  # already gone
    await notes.close()

    again = RoadNotes(tmp_path / "roads.sqlite3")
    await again.open()
    assert list(again.notes) == [line.id]
    kept = again.notes[line.id]
    assert (kept.state, kept.text, kept.coordinates) == (RoadState.FLOODED, line.text, SEAWALL)
    await again.close()


async def test_near_finds_notes_within_the_radius_nearest_first(tmp_path: Path) -> None:
    """Distances are in metres (rounded to 100 m), with longitude scaled by cos(latitude)."""
    notes = RoadNotes(tmp_path / "roads.sqlite3")
    await notes.open()
    await notes.add(RoadState.CLOSED, "bridge closed", EAST, "ops", None)
    await notes.add(RoadState.FLOODED, "seawall road", SEAWALL, "ops", None)
    here_lat, here_lon = 30.601, 121.075  # about 110 m north of the seawall road
    found = notes.near(here_lat, here_lon, 3000.0)
    assert [n["text"] for n in found] == ["seawall road", "bridge closed"]
    assert found[0]["distance_m"] == 100.0
    # 0.029 degrees of longitude at 30.6° N is about 2.78 km (not 3.2 km unscaled)
    assert found[1]["distance_m"] == 2800.0
    assert [n["text"] for n in notes.near(here_lat, here_lon, 1000.0)] == ["seawall road"]
    geometry = found[1]["geometry"]
    assert geometry == {"type": "Point", "coordinates": [121.104, 30.6]}
    await notes.close()


async def test_expired_notes_are_not_current(tmp_path: Path) -> None:
    """A note with a time to live drops out of ``current`` (and so of ``near``) once it expires."""
    notes = RoadNotes(tmp_path / "roads.sqlite3")
    await notes.open()
    short = await notes.add(RoadState.OPEN, "reopened", EAST, "ops", 60.0)
    forever = await notes.add(RoadState.CLOSED, "closed", SEAWALL, "ops", None)
    now = time.time()
    assert {n.id for n in notes.current(now)} == {short.id, forever.id}
    assert {n.id for n in notes.current(now + 61.0)} == {forever.id}
    await notes.close()
