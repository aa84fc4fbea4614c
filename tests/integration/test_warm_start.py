"""A restarted service continues from the stored readings: colours and station status survive."""

from __future__ import annotations

import asyncio
import json
import time

import aiomqtt
import httpx
import pytest

from tests.helpers import serve
from tests.services import scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]


async def test_colours_come_back_from_the_store_after_a_restart(
    mosquitto, influxd, influx_db, make_settings, topic_root
):
    """Red at Zhapu before the restart is red again at once after it, with no new reading."""
    settings = make_settings(mosquitto, influx=influxd, influx_db=influx_db)
    async with serve(settings) as app:
        now_ms = int(app.services.clock.now() * 1000)
        async with aiomqtt.Client(
            mosquitto.host, mosquitto.port, identifier=f"pub-{time.monotonic_ns()}"
        ) as pub:
            for i in range(3):
                payload = json.dumps({"ts": now_ms - 60_000 * i, "value": 5.6})
                await pub.publish(f"{topic_root}/zhapu/tide_level", payload, qos=1)
        async with asyncio.timeout(scaled(15)):
            while (  # noqa: ASYNC110 - polls the store and the pipeline, no event to wait on
                await app.services.store.count("zhapu") < 3
                or app.services.pipeline.book.current.get("zhapu-harbour") is None
                or app.services.pipeline.book.current["zhapu-harbour"].level != 4
            ):
                await asyncio.sleep(0.1)

    async with serve(settings) as again, httpx.AsyncClient(base_url=again.http) as http:
        await again.services.pipeline.evaluate()
        zone = (await http.get("/api/v1/zones/zhapu-harbour")).json()
        station = (await http.get("/api/v1/stations/zhapu")).json()
    assert zone["properties"]["colour"] == "red"
    assert station["status"] == "ok"
    assert station["last"]["tide_level"]["value"] == 5.6
