"""A restarted service continues from the stored readings: colours and station status survive."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import aiomqtt
import httpx
import pytest

from marine_watch.settings import Settings
from tests.helpers import serve
from tests.services import Broker, Influx, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]


async def test_colours_come_back_from_the_store_after_a_restart(
    mosquitto: Broker,
    influxd: Influx,
    influx_db: str,
    make_settings: Callable[..., Settings],
    topic_root: str,
) -> None:
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
