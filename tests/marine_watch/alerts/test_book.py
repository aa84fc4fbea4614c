"""Alert lifecycle: colour changes become Alert, Update and Cancel messages, chained by references."""

from pathlib import Path

from marine_watch.alerts.book import AlertBook, AuditEntry, MsgType, Subject
from marine_watch.alerts.store import AlertStore
from marine_watch.risk.zones import PlaceColour

DRIVER = {"hazard": "storm_surge", "station": "zhapu", "value": 5.5, "threshold": 5.4}


def colour(level: int, place: str = "zhapu-harbour", kind: str = "zone") -> PlaceColour:
    names = {-1: "unknown", 0: "none", 1: "blue", 2: "yellow", 3: "orange", 4: "red"}
    return PlaceColour(place, kind, "village", level, names[level], DRIVER, (), 0.0)


def test_rise_escalate_and_fall_make_alert_update_cancel() -> None:
    """Blue raises an Alert, red an Update referencing it, none a Cancel referencing both."""
    book = AlertBook()
    first = book.on_colour(colour(1), 100.0)
    assert first is not None
    assert first.msg_type == MsgType.ALERT
    assert first.references == ()
    update = book.on_colour(colour(4), 200.0)
    assert update is not None
    assert update.msg_type == MsgType.UPDATE
    assert update.references == ((first.identifier, 100.0),)
    assert update.incident == first.identifier
    cancel = book.on_colour(colour(0), 300.0)
    assert cancel is not None
    assert cancel.msg_type == MsgType.CANCEL
    assert [i for i, _ in cancel.references] == [first.identifier, update.identifier]
    assert len({first.identifier, update.identifier, cancel.identifier}) == 3
    assert book.active == {}


def test_unknown_never_cancels_and_none_never_raises() -> None:
    """No data is not none: an unknown colour leaves the alert open; none with no alert sends nothing."""
    book = AlertBook()
    assert book.on_colour(colour(0), 1.0) is None
    assert book.on_colour(colour(2), 2.0) is not None
    assert book.on_colour(colour(-1), 3.0) is None
    assert book.on_colour(colour(2), 4.0) is None
    assert (Subject.ZONE, "zhapu-harbour") in book.active


def test_segments_raise_no_alerts() -> None:
    """Alerts are per zone and tier; dike segments colour their zones instead."""
    assert AlertBook().on_colour(colour(4, "d-zhapu", "segment"), 1.0) is None


def test_silent_station_raises_and_reporting_again_cancels() -> None:
    """A stale station raises its own alert to duty officers; 'ok' again cancels it."""
    book = AlertBook()
    raised = book.on_station("zhapu", "stale", "no reading for 10 min", 1.0)
    assert raised is not None
    assert raised.subject == Subject.STATION
    assert book.on_station("zhapu", "stale", "no reading for 11 min", 2.0) is None
    assert book.on_station("dushan", "no_data", "never seen", 2.0) is None
    cancel = book.on_station("zhapu", "ok", None, 3.0)
    assert cancel is not None
    assert cancel.msg_type == MsgType.CANCEL


async def test_store_keeps_messages_and_restores_open_incidents(tmp_path: Path) -> None:
    """Messages survive a restart; the book rebuilt from them updates the same incident."""
    book = AlertBook()
    store = AlertStore(tmp_path / "alerts.sqlite3")
    await store.open()
    first = book.on_colour(colour(2), 10.0)
    assert first is not None
    await store.add(first)
    await store.colours([("zhapu-harbour", 2, "yellow", 10.0)])
    await store.close()

    again = AlertStore(tmp_path / "alerts.sqlite3")
    restored = AlertBook()
    restored.restore(await again.open())
    update = restored.on_colour(colour(3), 20.0)
    assert update is not None
    assert update.incident == first.identifier
    assert await again.message(first.identifier) == first
    history = await again.trail(subject_id="zhapu-harbour", action="colour")
    assert [h["detail"] for h in history] == ['{"level": 2, "colour": "yellow"}']
    trail = await again.trail(subject_id="zhapu-harbour")
    assert [t["action"] for t in trail] == ["alert", "colour"]
    await again.close()


async def test_acknowledgements_of_many_messages_come_in_one_read(tmp_path: Path) -> None:
    """Each message gets its own acknowledgements, oldest first; one with none gets an empty list;
    more identifiers than one IN (...) query holds still all come back."""
    store = AlertStore(tmp_path / "alerts.sqlite3")
    await store.open()
    for ts, actor, ident in [(1.0, "ops:a", "m-1"), (2.0, "ops:b", "m-2"), (3.0, "ops:c", "m-1")]:
        await store.audit(AuditEntry(ts, actor, "acknowledged", "zhapu-harbour", ident, ""))
    await store.audit(AuditEntry(4.0, "system", "colour", "zhapu-harbour", "m-1", "{}"))
    many = ["m-1", "m-2", "m-3", *(f"x-{i}" for i in range(1200))]
    acks = await store.acknowledgements(many)
    assert [a["actor"] for a in acks["m-1"]] == ["ops:a", "ops:c"]
    assert [a["actor"] for a in acks["m-2"]] == ["ops:b"]
    assert acks["m-3"] == []
    assert len(acks) == len(many)
    assert await store.acknowledgements([]) == {}
    await store.close()
