"""Zone colours: max of members and children, unknown is not none, rise at once, fall after the hold time."""

from __future__ import annotations

import pytest

from marine_watch.coast import load_catalogue
from marine_watch.risk.hazards import Assessment
from marine_watch.risk.zones import ZoneBook, ZoneIndex
from risk_models.types import UNKNOWN, Hazard
from sensors.catalogue import Catalogue
from tests.helpers import CONFIG


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CONFIG)


def surge(place: str, level: int, reason: str | None = None) -> Assessment:
    return Assessment(
        place,
        Hazard.STORM_SURGE,
        level,
        {"hazard": "storm_surge", "station": place, "level": level},
        reason,
    )


def test_village_takes_the_max_and_parents_follow(catalogue: Catalogue) -> None:
    """Zhapu at orange makes its villages, Zhapu town and the city orange; the driver is named."""
    book = ZoneBook(catalogue, hold_time_s=600)
    book.update([surge("zhapu", 3), surge("dushan", 1)], now_s=0)
    colours = {k: v.level for k, v in book.current.items()}
    assert colours["zhapu-harbour"] == 3
    assert colours["tianfei"] == 3
    assert colours["zhapu"] == 3
    assert colours["dushangang"] == 1
    assert colours["pinghu"] == 3
    assert book.current["pinghu"].driver is not None
    assert book.current["pinghu"].driver["via"] == "zhapu"


def test_unknown_station_is_reported_not_treated_as_none(catalogue: Catalogue) -> None:
    """A silent station leaves its village unknown with the reason, never 'none'."""
    book = ZoneBook(catalogue, hold_time_s=600)
    book.update([surge("huangshan", UNKNOWN, "no reading for 30 min")], now_s=0)
    village = book.current["huangshan"]
    assert village.level == UNKNOWN
    assert village.colour == "unknown"
    assert any("no reading for 30 min" in u for u in village.unknown)


def test_colour_rises_at_once_and_falls_only_after_hold_time(catalogue: Catalogue) -> None:
    """Anti-flap: red shows immediately; blue replaces it only after the hold time below red."""
    book = ZoneBook(catalogue, hold_time_s=600)
    book.update([surge("zhapu", 1)], now_s=0)
    changed = book.update([surge("zhapu", 4)], now_s=10)
    assert "zhapu-harbour" in {c.id for c in changed}
    assert book.current["zhapu-harbour"].level == 4
    assert book.update([surge("zhapu", 1)], now_s=20) == []
    assert book.update([surge("zhapu", 1)], now_s=500) == []
    assert book.current["zhapu-harbour"].level == 4
    changed = book.update([surge("zhapu", 1)], now_s=621)
    assert book.current["zhapu-harbour"].level == 1
    assert "zhapu-harbour" in {c.id for c in changed}


def test_a_brief_dip_restarts_the_hold(catalogue: Catalogue) -> None:
    """Going back up during the hold cancels the pending fall."""
    book = ZoneBook(catalogue, hold_time_s=600)
    book.update([surge("zhapu", 3)], now_s=0)
    book.update([surge("zhapu", 1)], now_s=100)
    book.update([surge("zhapu", 3)], now_s=200)
    book.update([surge("zhapu", 1)], now_s=750)
    assert book.current["zhapu-harbour"].level == 3


def test_point_lookup_finds_the_village_and_its_chain(catalogue: Catalogue) -> None:
    """A point in Zhapu harbour resolves to village → town → city; the open sea to nothing."""
    index = ZoneIndex(catalogue)
    village = index.village_at(30.605, 121.07)
    assert village is not None
    assert [z.id for z in index.chain(village)] == [village.id, "zhapu", "pinghu"]
    assert index.village_at(30.40, 121.20) is None


def test_held_colour_keeps_the_explanation_that_set_it(catalogue: Catalogue) -> None:
    """While red is held, the answer explains red (not the lower current value) and says it is held."""
    book = ZoneBook(catalogue, hold_time_s=600)
    book.update([surge("zhapu", 4)], now_s=0)
    book.update([surge("zhapu", 1)], now_s=60)
    village = book.current["zhapu-harbour"]
    assert village.level == 4
    assert village.driver is not None
    assert village.driver["level"] == 4
    assert village.held == {"current_level": 1, "lower_after_s": 660.0, "hold_time_s": 600}
    book.update([surge("zhapu", 1)], now_s=700)
    assert book.current["zhapu-harbour"].held is None
