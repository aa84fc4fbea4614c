"""From an MQTT reading to a websocket colour, on the real Mosquitto and InfluxDB."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import aiomqtt
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from marine_watch.auth.keys import hash_key
from marine_watch.settings import Settings
from tests.helpers import JsonObject, serve
from tests.services import Broker, Influx, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]
DUTY_KEY = "test-duty-officer-key"


def _ms(t: float) -> int:
    return int(t * 1000)


async def _publish(broker: Broker, topic: str, payloads: list[bytes]) -> None:
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"pub-{time.monotonic_ns()}"
    ) as client:
        for p in payloads:
            await client.publish(topic, p, qos=1)


async def _next_matching(
    ws: ClientConnection, predicate: Callable[[JsonObject], bool], within_s: float
) -> JsonObject:
    async with asyncio.timeout(within_s):
        while True:
            message: JsonObject = json.loads(await ws.recv())
            if predicate(message):
                return message


async def test_reading_is_stored_in_influxdb_and_turns_the_village_red(
    mosquitto: Broker,
    influxd: Influx,
    influx_db: str,
    make_settings: Callable[..., Settings],
    topic_root: str,
) -> None:
    """A tide reading above Zhapu's red warning level is stored and repaints its village red on /ws/risk."""
    settings = make_settings(mosquitto, influx=influxd, influx_db=influx_db)
    async with serve(settings) as app, connect(f"{app.ws}/ws/risk") as ws:
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot"
        now = app.services.clock.now()
        readings = [
            json.dumps({"ts": _ms(now - 60 * i), "value": 5.6, "unit": "m"}).encode()
            for i in range(3)
        ]
        await _publish(mosquitto, f"{topic_root}/zhapu/tide_level", readings)

        red = await _next_matching(
            ws, lambda m: m.get("id") == "zhapu-harbour" and m.get("level") == 4, scaled(15)
        )
        assert red["colour"] == "red"
        assert red["explanation"]["hazard"] == "storm_surge"
        assert red["explanation"]["station"] == "zhapu"
        assert red["explanation"]["threshold"] == 5.40
        town = await _next_matching(ws, lambda m: m.get("id") == "zhapu", scaled(5))
        assert town["tier"] == "town"
        assert town["level"] == 4

        async with httpx.AsyncClient(base_url=influxd.url) as http:
            deadline = time.monotonic() + scaled(10)
            while True:
                q = 'SELECT "value" FROM "reading" WHERE "station" = \'zhapu\' AND "kind" = \'tide_level\''
                body = (await http.get("/query", params={"db": influx_db, "q": q})).json()
                series = body["results"][0].get("series", [])
                if (series and len(series[0]["values"]) == 3) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
        assert series, body
        assert [row[1] for row in series[0]["values"]] == [5.6, 5.6, 5.6]

        async with httpx.AsyncClient(base_url=app.http) as http:
            back = (
                await http.get("/api/v1/stations/zhapu/readings", params={"kind": "tide_level"})
            ).json()
            assert [p["value"] for p in back["points"]] == [5.6, 5.6, 5.6]
            stations = (await http.get("/api/v1/stations")).json()
            assert {s["id"] for s in stations} >= {"zhapu", "dushan", "buoy-bay"}


async def test_malformed_payloads_are_dead_lettered_and_ingest_goes_on(
    mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str
) -> None:
    """Not JSON, wrong types, unknown station, NaN, a far-future time: each dead-lettered with its reason."""
    settings = make_settings(mosquitto, api_keys=(f"ops:duty_officer:{hash_key(DUTY_KEY)}",))
    async with serve(settings) as app:
        now = app.services.clock.now()
        bad = {
            f"{topic_root}/zhapu/tide_level": [
                b"not json",
                b'{"ts": 1, "value": "high"}',
                b'{"ts": "2026-01-01T00:00:00Z", "value": NaN}',
                json.dumps({"ts": _ms(now + 30 * 86400), "value": 1.0}).encode(),
            ],
            f"{topic_root}/atlantis/tide_level": [
                json.dumps({"ts": _ms(now), "value": 1.0}).encode()
            ],
        }
        for topic, payloads in bad.items():
            await _publish(mosquitto, topic, payloads)
        await _publish(
            mosquitto, f"{topic_root}/risk/pinghu", [b'{"level": 4}']
        )  # our own output: skipped
        good = json.dumps({"ts": _ms(now), "value": 2.5}).encode()
        await _publish(mosquitto, f"{topic_root}/dushan/tide_level", [good])

        duty = {"X-API-Key": DUTY_KEY}
        async with httpx.AsyncClient(base_url=app.http, headers=duty) as http:
            async with asyncio.timeout(scaled(15)):
                while True:
                    letters = (await http.get("/api/v1/dead-letters")).json()
                    readings = (await http.get("/api/v1/stations/dushan/readings")).json()["points"]
                    if letters["count"] >= 5 and readings:
                        break
                    await asyncio.sleep(0.1)
            reasons = sorted(item["reason"] for item in letters["items"])
            assert reasons == [
                "bad_shape",
                "future_timestamp",
                "not_finite",
                "not_json",
                "unknown_station",
            ]
            assert readings[0]["value"] == 2.5
            assert (await http.get("/health")).status_code == 200
            metrics = (await http.get("/metrics")).text
            assert 'mw_dead_letters_total{reason="not_json"} 1.0' in metrics
