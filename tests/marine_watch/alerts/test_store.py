"""The alert store: messages with every field, the audit trail, the held members, and files
written by older versions (tests/marine_watch/alerts/test_book.py restores a book from it)."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from marine_watch.alerts.book import AlertMessage, AuditEntry, MsgType, Subject
from marine_watch.alerts.store import AlertStore

NOW = 1_795_000_000.0


def message(
    identifier: str,
    sent_s: float = NOW,
    subject: Subject = Subject.ZONE,
    subject_id: str = "zhapu-harbour",
) -> AlertMessage:
    return AlertMessage(
        identifier,
        "mw-first",
        subject,
        subject_id,
        "village",
        MsgType.UPDATE,
        3,
        "orange",
        sent_s,
        (("mw-first", NOW - 600.0),),
        "Orange storm surge warning",
        {"hazard": "storm_surge", "surge_m": 1.25},
        {"zh": {"headline": "风暴潮橙色预警"}, "en": {"headline": "Orange"}},
        None,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AlertStore]:
    opened = AlertStore(tmp_path / "alerts.sqlite3")
    assert await opened.open() == []
    yield opened
    await opened.close()


async def test_a_message_comes_back_with_every_field(store: AlertStore) -> None:
    sent = message("mw-2")
    cancel = AlertMessage(
        "mw-3",
        "mw-first",
        Subject.ZONE,
        "zhapu-harbour",
        None,
        MsgType.CANCEL,
        0,
        "none",
        NOW + 60,
        (),
        "All clear",
        None,
        None,
        "AllClear",
    )
    await store.add(sent)
    await store.add(cancel)
    assert await store.message("mw-2") == sent
    assert await store.message("mw-3") == cancel
    assert await store.message("mw-404") is None


async def test_an_identifier_is_stored_once(store: AlertStore) -> None:
    await store.add(message("mw-2"))
    with pytest.raises(sqlite3.IntegrityError):
        await store.add(message("mw-2", NOW + 1))
    assert [m.sent_s for m in await store.messages()] == [NOW]


async def test_adding_a_message_writes_its_audit_line(store: AlertStore) -> None:
    await store.add(message("mw-2"))
    assert await store.trail() == [
        {
            "ts_s": NOW,
            "actor": "system",
            "action": "update",
            "subject_id": "zhapu-harbour",
            "identifier": "mw-2",
            "detail": "Orange storm surge warning",
        }
    ]


async def test_messages_are_newest_first_by_subject_and_place(store: AlertStore) -> None:
    await store.add(message("a", NOW))
    await store.add(message("b", NOW + 1, Subject.STATION, "zhapu"))
    await store.add(message("c", NOW + 2, subject_id="tianfei"))
    await store.add(message("d", NOW + 3))
    assert [m.identifier for m in await store.messages()] == ["d", "c", "b", "a"]
    assert [m.identifier for m in await store.messages(subject=Subject.ZONE)] == ["d", "c", "a"]
    assert [m.identifier for m in await store.messages(subject_id="zhapu-harbour")] == ["d", "a"]
    assert [m.identifier for m in await store.messages(limit=2)] == ["d", "c"]


async def test_the_trail_keeps_the_newest_lines_in_time_order(store: AlertStore) -> None:
    for i in range(5):
        await store.audit(AuditEntry(NOW + i, "ops:ann", "acknowledged", "zhapu", f"m-{i}", ""))
    await store.colours([("zhapu", 2, "yellow", NOW + 10), ("tianfei", 1, "blue", NOW + 11)])
    last = await store.trail(subject_id="zhapu", limit=3)
    assert [(t["action"], t["identifier"]) for t in last] == [
        ("acknowledged", "m-3"),
        ("acknowledged", "m-4"),
        ("colour", None),
    ]
    colours = await store.trail(action="colour")
    assert [(c["subject_id"], c["detail"]) for c in colours] == [
        ("zhapu", '{"level": 2, "colour": "yellow"}'),
        ("tianfei", '{"level": 1, "colour": "blue"}'),
    ]
    assert [e["ts_s"] for e in await store.events("m-1", "acknowledged")] == [NOW + 1]
    assert await store.events("m-1", "escalated") == []


async def test_the_held_members_are_replaced_per_member_and_survive_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "alerts.sqlite3"
    store = AlertStore(path)
    await store.open()
    await store.keep_known([("zhapu/storm_surge", '{"level": 2}'), ("dushan/wind", '{"level": 1}')])
    await store.keep_known([("zhapu/storm_surge", '{"level": 3}')])
    await store.close()
    again = AlertStore(path)
    await again.open()
    try:
        assert sorted(await again.last_known()) == ['{"level": 1}', '{"level": 3}']
    finally:
        await again.close()


async def test_a_file_of_an_older_version_gains_the_new_columns(tmp_path: Path) -> None:
    """Files from before texts and response_type open, keep their messages, and take new ones."""
    path = tmp_path / "alerts.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE message (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " identifier TEXT UNIQUE, incident TEXT, subject TEXT, subject_id TEXT, tier TEXT,"
            " msg_type TEXT, level INTEGER, colour TEXT, sent_s REAL, refs TEXT, headline TEXT,"
            " explanation TEXT)"
        )
        db.execute(
            "INSERT INTO message VALUES (1, 'mw-old', 'mw-old', 'zone', 'zhapu', 'town', 'Alert',"
            " 2, 'yellow', ?, '[]', 'Yellow', NULL)",
            (NOW,),
        )
    db.close()
    store = AlertStore(path)
    try:
        [old] = await store.open()
        assert (old.identifier, old.level, old.texts, old.response_type) == (
            "mw-old",
            2,
            None,
            None,
        )
        await store.add(message("mw-new"))
        assert await store.message("mw-new") == message("mw-new")
    finally:
        await store.close()
