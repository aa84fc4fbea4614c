"""Stored history is never rewritten: a second value for a stored (station, kind, time) is refused.

Probed as a station would: its own account, the real broker set-up, the real service on a real
InfluxDB. Before, ``qc`` was a tag, so republishing a stored time with another value stored it
beside the first (flagged ``duplicate``) and InfluxDB then answered the forged value.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from marine_watch.settings import Settings
from tests.integration.conftest import serve
from tests.security.broker import ROOT, SecuredBroker
from tests.security.traffic import publish_as, reading, wait_stored
from tests.services import Influx, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]


async def influxql(influxd: Influx, db: str, q: str) -> list[list[Any]]:
    """The rows of the first series of one InfluxQL answer."""
    async with httpx.AsyncClient(base_url=influxd.url, timeout=10.0) as http:
        answer = (await http.get("/query", params={"db": db, "q": q, "epoch": "ns"})).json()
    series = answer["results"][0].get("series", [])
    return series[0]["values"] if series else []


async def test_a_second_value_for_a_stored_point_is_a_conflict_and_the_first_stays(
    secured: SecuredBroker,
    service_settings: Callable[..., Settings],
    influxd: Influx,
    influx_db: str,
) -> None:
    """On real InfluxDB: no ``qc`` tag; another value for a stored key is dead-lettered as a conflict,
    the first value stays, stored once; the same value again is a harmless redelivery."""
    settings = service_settings(store="influxdb", influx_url=influxd.url, influx_db=influx_db)
    zhapu = secured.station("zhapu")
    ts_s = time.time() - 60
    topic = f"{ROOT}/zhapu/tide_level"
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        await publish_as(secured.field, zhapu, [(topic, reading(1.45, ts_s), False)])
        assert await wait_stored(http, "zhapu", 1) == [1.45]
        forged = [(topic, reading(-3.21, ts_s), False), (topic, reading(1.45, ts_s), False)]
        await publish_as(secured.field, zhapu, [*forged, (topic, reading(1.5, ts_s + 60), False)])
        assert await wait_stored(http, "zhapu", 2) == [1.45, 1.5]
        letters = app.services.dead_letters
        async with asyncio.timeout(scaled(10)):
            while not (conflicts := await letters.query(reason="conflict")):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    assert len(conflicts) == 1
    assert "-3.21" in str(conflicts[0]["raw"])
    assert "1.45" in str(conflicts[0]["detail"])
    tag_keys = [row[0] for row in await influxql(influxd, influx_db, "SHOW TAG KEYS FROM reading")]
    assert sorted(tag_keys) == ["kind", "station"]
    field_keys = await influxql(influxd, influx_db, "SHOW FIELD KEYS FROM reading")
    assert sorted(map(tuple, field_keys)) == [("qc", "string"), ("value", "float")]
    rows = await influxql(
        influxd,
        influx_db,
        f'SELECT "value", "qc" FROM reading WHERE time = {round(ts_s * 1000) * 10**6}',
    )
    assert [row[1:] for row in rows] == [[1.45, "ok"]]
