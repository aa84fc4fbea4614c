"""Load what the coast is from config/: stations, zones, dikes, shelters, thresholds, QC, advice, tide constants.

Every problem becomes a ConfigError naming the file, the key and the problem, so start-up stops
on one readable line.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from shapely.errors import ShapelyError
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from marine_watch.errors import ConfigError
from marine_watch.settings import Settings
from risk_models import tide
from sensors.catalogue import Catalogue

FILES = {
    "stations": "stations.toml",
    "segments": "dikes.toml",
    "shelters": "shelters.toml",
    "rules": "thresholds.toml",
    "qc": "qc.toml",
    "advice": "advice.toml",
    "zones": "zones.geojson",
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(path, "-", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "-", f"not valid TOML: {exc}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "-", "file not found") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(path, "-", f"not valid JSON: {exc}") from None


def _zones_from_geojson(path: Path, doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ConfigError(path, "type", "must be a GeoJSON FeatureCollection")
    zones = []
    for i, feature in enumerate(doc.get("features", [])):
        geometry = feature.get("geometry") or {}
        if geometry.get("type") != "Polygon":
            raise ConfigError(path, f"features[{i}].geometry", "must be a Polygon")
        polygon = _counter_clockwise(geometry.get("coordinates"))
        zones.append({**feature.get("properties", {}), "polygon": polygon})
    return zones


def _counter_clockwise(rings: Any) -> Any:
    """RFC 7946 §3.1.6 right-hand rule: exterior ring counter-clockwise, holes clockwise.

    Whatever the file's winding, the zones are served (and drawn, and sent in CAP) that way. A
    malformed polygon is returned as it is, for the catalogue check to say what is wrong.
    """
    try:
        shape = orient(Polygon(rings[0], rings[1:]), sign=1.0)
    except (TypeError, ValueError, IndexError, KeyError, ShapelyError):
        return rings
    return [[list(p) for p in ring.coords] for ring in (shape.exterior, *shape.interiors)]


def load_catalogue(config_dir: Path) -> Catalogue:
    """Read and cross-check the catalogue files under ``config_dir``."""
    paths = {key: config_dir / name for key, name in FILES.items()}
    raw: dict[str, Any] = {
        "stations": _read_toml(paths["stations"]).get("stations", []),
        "segments": _read_toml(paths["segments"]).get("segments", []),
        "shelters": _read_toml(paths["shelters"]).get("shelters", []),
        "rules": _read_toml(paths["rules"]).get("rules", {}),
        "qc": _read_toml(paths["qc"]).get("qc", {}),
        "advice": _read_toml(paths["advice"]).get("advice", {}),
        "zones": _zones_from_geojson(paths["zones"], _read_json(paths["zones"])),
    }
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"] if p != "[key]"]  # a bad dict key: its own name
        section = loc[0] if loc else "-"
        path = paths.get(section, config_dir)
        key = _readable_key(raw, loc)
        raise ConfigError(path, key, err["msg"]) from None


def _readable_key(raw: dict[str, Any], loc: list[str]) -> str:
    """stations.3.lat -> stations[zhapu].lat, so the operator finds the entry by id."""
    if len(loc) >= 2 and loc[1].isdigit():
        items = raw.get(loc[0], [])
        index = int(loc[1])
        ident = (
            items[index].get("id", index)
            if index < len(items) and isinstance(items[index], dict)
            else index
        )
        return ".".join([f"{loc[0]}[{ident}]", *loc[2:]])
    return ".".join(loc) or "-"


def load_tide_constants(config_dir: Path, name: str) -> dict[str, Any]:
    """Raw constants JSON of one station (see risk_models.tide.TideConstants.from_dict)."""
    path = config_dir / "tide_constants" / name
    doc = _read_json(path)
    if not isinstance(doc, dict) or "constituents" not in doc:
        raise ConfigError(path, "constituents", "missing")
    return doc  # the one constants format: TideConstants.from_dict checks every key


def load_constants(settings: Settings, catalogue: Catalogue) -> dict[str, tide.TideConstants]:
    """Tide constants per station from config/tide_constants (ConfigError on a bad file)."""
    out = {}
    for station in catalogue.stations:
        if station.tide_constants:
            raw = load_tide_constants(settings.config_dir, station.tide_constants)
            try:
                out[station.id] = tide.TideConstants.from_dict(raw)
            except ValueError as exc:
                path = settings.config_dir / "tide_constants" / station.tide_constants
                raise ConfigError(path, "constituents", str(exc)) from None
    return out
