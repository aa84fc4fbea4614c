"""The dead-letter table: what it keeps of a letter, how it is read back, and that nothing queued
is lost at close (tests/security/test_dead_letters.py floods it and checks retention)."""

import time
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from marine_watch.ingest.dead_letters import MAX_RAW_BYTES, DeadLetter, DeadLetters

NOW = time.time()


def letter(reason: str, detail: str = "", raw: bytes = b"{}", topic: str = "t/x") -> DeadLetter:
    return DeadLetter(topic, NOW, reason, detail, raw, len(raw))


@pytest.fixture
async def letters(tmp_path: Path) -> AsyncIterator[DeadLetters]:
    opened = DeadLetters(tmp_path / "dead.sqlite3")
    await opened.open()
    yield opened
    await opened.close()


async def test_a_letter_is_kept_with_topic_time_reason_and_raw_bytes(letters: DeadLetters) -> None:
    await letters.add([letter("not_json", "Expecting value", b"\xff\xfeoops", "t/PH01/tide")])
    [kept] = await letters.query()
    assert kept == {
        "id": 1,
        "topic": "t/PH01/tide",
        "received_s": NOW,
        "reason": "not_json",
        "detail": "Expecting value",
        "raw": "\ufffd\ufffdoops",  # shown as text, undecodable bytes replaced
        "size": 6,
    }


async def test_long_details_and_raw_bytes_are_capped_but_the_size_is_true(
    letters: DeadLetters,
) -> None:
    raw = b"r" * (MAX_RAW_BYTES + 10)
    await letters.add([letter("too_large", "d" * 600, raw)])
    [kept] = await letters.query()
    assert len(str(kept["detail"])) == 500
    assert len(str(kept["raw"])) == MAX_RAW_BYTES
    assert kept["size"] == MAX_RAW_BYTES + 10


async def test_letters_read_newest_first_by_reason_and_page(letters: DeadLetters) -> None:
    await letters.add([letter("not_json", "a"), letter("bad_unit", "b"), letter("not_json", "c")])
    await letters.add([letter("not_json", "d")])
    assert [x["detail"] for x in await letters.query()] == ["d", "c", "b", "a"]
    assert [x["detail"] for x in await letters.query(reason="not_json")] == ["d", "c", "a"]
    first = await letters.query(limit=2)
    assert [x["detail"] for x in first] == ["d", "c"]
    rest = await letters.query(limit=2, before_id=int(str(first[-1]["id"])))
    assert [x["detail"] for x in rest] == ["b", "a"]
    assert await letters.count() == 4
    assert await letters.counts() == {"not_json": 3, "bad_unit": 1}


async def test_submitted_letters_are_acknowledged_only_once_committed(
    letters: DeadLetters,
) -> None:
    acked: list[str] = []
    for name in ("one", "two", "three"):
        await letters.submit([letter("not_json", name)], partial(acked.append, name))
    await letters.add([letter("not_json", "last")])  # returns once its batch is committed
    assert acked == ["one", "two", "three"]
    assert await letters.count() == 4


async def test_what_is_queued_at_close_is_written_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "dead.sqlite3"
    letters = DeadLetters(path)
    await letters.open()
    acked: list[int] = []
    for i in range(50):
        await letters.submit([letter("not_json", str(i))], partial(acked.append, i))
    await letters.close()  # before the flusher had a turn
    assert sorted(acked) == list(range(50))
    again = DeadLetters(path)
    await again.open()
    try:
        assert await again.count() == 50
    finally:
        await again.close()


async def test_letters_cannot_be_added_before_open(tmp_path: Path) -> None:
    letters = DeadLetters(tmp_path / "dead.sqlite3")
    with pytest.raises(RuntimeError, match="not open"):
        await letters.add([letter("not_json")])
    await letters.add([])  # nothing to store: nothing to refuse
    await letters.close()
