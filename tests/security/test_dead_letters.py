"""Dead letters are bounded: a flood of junk is written in batches, kept to a count and an age,
counted per reason in /metrics, and does not hold up a good reading."""

import asyncio
import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import pytest

from marine_watch.ingest.dead_letters import DeadLetter, DeadLetters
from marine_watch.settings import Settings
from tests.integration.conftest import serve
from tests.security.broker import ROOT, SecuredBroker
from tests.security.traffic import reading, stored
from tests.services import scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]


def junk(i: int, received_s: float) -> DeadLetter:
    raw = b"x" * 10_000
    return DeadLetter("t/junk", received_s, "not_json", f"junk {i}", raw, len(raw))


async def test_retention_keeps_the_newest_rows_and_drops_old_ones(tmp_path: Path) -> None:
    """2,000 letters with a cap of 100 rows leave the newest 100; letters past the age go; each
    letter's raw bytes are capped; the letters go in batches, not one transaction each."""
    letters = DeadLetters(tmp_path / "dead.sqlite3", max_rows=100, max_age_s=3600)
    await letters.open()
    try:
        acked: list[int] = []
        now = time.time()
        for i in range(2000):
            await letters.submit([junk(i, now)], partial(acked.append, i))
        await letters.add([junk(2000, now - 7200)])  # older than the age: pruned at once
        assert sorted(acked) == list(range(2000))  # each acknowledged once durable
        kept = await letters.query(limit=1000)
        assert len(kept) == 100
        assert [k["detail"] for k in kept[:2]] == ["junk 1999", "junk 1998"]
        assert all(len(str(k["raw"])) == 4096 and k["size"] == 10_000 for k in kept)
        assert letters.pruned == 1901
        assert letters.batches < 200  # many letters per transaction
        assert await letters.counts() == {"not_json": 100}
        size = (tmp_path / "dead.sqlite3").stat().st_size
        for i in range(6000):  # three times as many again: the file does not grow with them
            await letters.submit([junk(i, now)], lambda: None)
        await letters.add([])
        await letters.add([junk(0, now)])
        assert await letters.count() == 100
        assert (tmp_path / "dead.sqlite3").stat().st_size <= size * 1.1
    finally:
        await letters.close()


async def test_a_flood_of_junk_is_counted_per_reason_and_a_good_reading_gets_through(
    secured: SecuredBroker, service_settings: Callable[..., Settings]
) -> None:
    """2,000 junk messages from a station's account: the dead-letter table stays at its cap,
    /metrics counts them per reason, and a good reading published after them is stored."""
    settings = service_settings(dead_letter_max_rows=500)
    zhapu = secured.station("zhapu")
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        async with secured.field.client("flood", zhapu) as client:
            for i in range(2000):
                await client.publish(f"{ROOT}/zhapu/tide_level", b"not json %d" % i, qos=1)
            await client.publish(f"{ROOT}/zhapu/tide_level", reading(1.23), qos=1)
        async with asyncio.timeout(scaled(30)):
            while await stored(http, "zhapu") != [1.23]:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        letters = app.services.dead_letters
        async with asyncio.timeout(scaled(30)):
            while letters.pruned < 1500:  # noqa: ASYNC110 - the last batches being written
                await asyncio.sleep(0.05)
        assert await letters.count() == 500
        metrics = (await http.get("/metrics")).text
    assert 'mw_dead_letters_stored{reason="not_json"} 500.0' in metrics
    assert 'mw_dead_letters_total{reason="not_json"} 2000.0' in metrics
    assert "mw_dead_letters_pruned 1500.0" in metrics
    assert json.loads(reading(1.0))["unit"] == "m"
