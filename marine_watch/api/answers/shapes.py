"""Small JSON shapes shared by routes."""

from __future__ import annotations

from marine_watch.risk.zones import PlaceColour


def place_dict(colour: PlaceColour | None) -> dict[str, object]:
    """Colour fields of a place; 'unknown' before the first evaluation."""
    if colour is None:
        return {
            "level": -1,
            "colour": "unknown",
            "explanation": None,
            "no_data": [],
            "no_data_since": [],
            "since_s": None,
        }
    body = colour.to_dict()
    keys = ("level", "colour", "explanation", "no_data", "no_data_since", "since_s")
    return {k: body[k] for k in keys}
