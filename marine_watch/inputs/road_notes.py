"""Road notes: closed or flooded roads posted by duty officers, shown to residents nearby.

Notes persist in SQLite (data_dir/roads.sqlite3). Lookups near a resident's position run in memory
with shapely; the position is used for that answer only and is never stored or logged.
"""

import json
import math
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from marine_watch.store.sqlite_file import SqliteFile

DEG_PER_M = 1 / 111_320.0  # metres per degree of latitude; local equirectangular, fine within km


class RoadState(StrEnum):
    """What is wrong with the road."""

    CLOSED = "closed"
    FLOODED = "flooded"
    OPEN = "open"  # reopened, kept as a note until it expires


@dataclass(frozen=True, slots=True)
class RoadNote:
    """One note: a point or a line (lon, lat pairs, GeoJSON order) with text."""

    id: int
    state: RoadState
    text: str
    coordinates: tuple[tuple[float, float], ...]
    author: str
    created_s: float
    expires_s: float | None

    def geometry(self, lon_scale: float = 1.0) -> BaseGeometry:
        """Point or line; ``lon_scale`` = cos(lat) makes degrees locally isotropic."""
        coords = [(x * lon_scale, y) for x, y in self.coordinates]
        return Point(coords[0]) if len(coords) == 1 else LineString(coords)

    def to_dict(self) -> dict[str, object]:
        """The note as the API sends it, its place as a GeoJSON Point or LineString."""
        kind = "Point" if len(self.coordinates) == 1 else "LineString"
        coords: object = (
            list(self.coordinates[0]) if kind == "Point" else [list(c) for c in self.coordinates]
        )
        return {
            "id": self.id,
            "state": self.state.value,
            "text": self.text,
            "geometry": {"type": kind, "coordinates": coords},
            "author": self.author,
            "created_s": self.created_s,
            "expires_s": self.expires_s,
        }


class RoadNotes:
    """The notes, in memory and in SQLite."""

    def __init__(self, path: Path) -> None:
        self._sql = SqliteFile(path, "roads", durable=False)
        self.notes: dict[int, RoadNote] = {}

    async def open(self) -> None:
        """Open the database and load the stored notes."""
        await self._sql.run(self._open)

    def _open(self, db: sqlite3.Connection) -> None:
        db.execute(
            "CREATE TABLE IF NOT EXISTS road (id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT,"
            " text TEXT, coords TEXT, author TEXT, created_s REAL, expires_s REAL, deleted INTEGER DEFAULT 0)"
        )
        db.commit()
        rows = db.execute(
            "SELECT id, state, text, coords, author, created_s, expires_s FROM road WHERE deleted = 0"
        )
        for r in rows:
            coords = tuple((float(x), float(y)) for x, y in json.loads(r[3]))
            self.notes[int(r[0])] = RoadNote(
                int(r[0]), RoadState(r[1]), r[2], coords, r[4], r[5], r[6]
            )

    async def add(
        self,
        state: RoadState,
        text: str,
        coordinates: tuple[tuple[float, float], ...],
        author: str,
        ttl_s: float | None,
    ) -> RoadNote:
        """Store a new note (expiring after ``ttl_s`` if given) and keep it in memory."""
        now = time.time()
        expires = None if ttl_s is None else now + ttl_s
        note_id = await self._sql.run(
            self._insert, state, text, coordinates, author, now=now, expires=expires
        )
        note = RoadNote(note_id, state, text, coordinates, author, now, expires)
        self.notes[note_id] = note
        return note

    def _insert(
        self,
        db: sqlite3.Connection,
        state: RoadState,
        text: str,
        coords: tuple[tuple[float, float], ...],
        author: str,
        *,
        now: float,
        expires: float | None,
    ) -> int:
        cur = db.execute(
            "INSERT INTO road (state, text, coords, author, created_s, expires_s) VALUES (?,?,?,?,?,?)",
            (state.value, text, json.dumps(coords), author, now, expires),
        )
        db.commit()
        return int(cur.lastrowid or 0)

    async def remove(self, note_id: int) -> bool:
        """Delete a note; False when there is no such note."""
        if self.notes.pop(note_id, None) is None:
            return False
        await self._sql.run(self._delete, note_id)
        return True

    def _delete(self, db: sqlite3.Connection, note_id: int) -> None:
        db.execute("UPDATE road SET deleted = 1 WHERE id = ?", (note_id,))
        db.commit()

    def current(self, now_s: float | None = None) -> list[RoadNote]:
        """The notes not expired at ``now_s`` (default: now)."""
        now = time.time() if now_s is None else now_s
        return [n for n in self.notes.values() if n.expires_s is None or n.expires_s > now]

    def near(self, lat: float, lon: float, radius_m: float) -> list[dict[str, object]]:
        """Notes within ``radius_m`` of a position, nearest first, with the distance rounded to 100 m."""
        scale = math.cos(math.radians(lat))
        here = Point(lon * scale, lat)
        found = []
        for note in self.current():
            distance_m = note.geometry(scale).distance(here) / DEG_PER_M
            if distance_m <= radius_m:
                found.append((distance_m, note))
        found.sort(key=lambda x: x[0])
        return [{**n.to_dict(), "distance_m": round(d, -2)} for d, n in found]

    async def close(self) -> None:
        """Close the notes database."""
        await self._sql.close()
