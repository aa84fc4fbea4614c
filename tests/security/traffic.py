"""What the security tests send and read back: readings, forecasts, stored points, retained
colours, and the service started against a broker that may refuse it."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import structlog

from marine_watch.app import create_app
from marine_watch.mqtt.client import Account, MqttEndpoint
from marine_watch.services import Services
from marine_watch.settings import Settings
from tests.services import scaled


def reading(value: float, ts_s: float | None = None) -> bytes:
    """One tide reading (MQTT contract v1)."""
    ts_ms = round((time.time() if ts_s is None else ts_s) * 1000)
    return json.dumps({"ts": ts_ms, "value": value, "unit": "m"}).encode()


def forecast(station: str, level_m: float, source: str = "test office") -> bytes:
    """A forecast issued now with one high water three hours ahead."""
    now = time.time()
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3 * 3600))
    body = {
        "station": station,
        "issued": iso,
        "source": source,
        "high_waters": [{"ts": later, "level_m": level_m}],
    }
    return json.dumps(body).encode()


async def publish_as(
    endpoint: MqttEndpoint,
    account: Account | None,
    messages: list[tuple[str, bytes, bool]],
    *,
    client_id: str = "test-publisher",
) -> None:
    """Publish (topic, payload, retain) messages at QoS 1, each acknowledged before the next."""
    async with endpoint.client(client_id, account) as client:
        for topic, payload, retain in messages:
            await client.publish(topic, payload, qos=1, retain=retain)


async def stored(http: httpx.AsyncClient, station: str) -> list[float]:
    """The stored tide readings of ``station`` (values, oldest first)."""
    answer = await http.get(f"/api/v1/stations/{station}/readings", params={"kind": "tide_level"})
    answer.raise_for_status()
    return [p["value"] for p in answer.json()["points"]]


async def wait_stored(
    http: httpx.AsyncClient, station: str, n: int, within_s: float = 15
) -> list[float]:
    """Poll until ``station`` has at least ``n`` stored readings; return their values."""
    async with asyncio.timeout(scaled(within_s)):
        while len(values := await stored(http, station)) < n:  # noqa: ASYNC110 - polling the API
            await asyncio.sleep(0.05)
    return values


async def retained(endpoint: MqttEndpoint, account: Account, topic: str) -> dict[str, bytes]:
    """The retained messages under ``topic`` (collected until a second of silence)."""
    out: dict[str, bytes] = {}
    async with endpoint.client(f"test-reader-{time.monotonic_ns()}", account) as client:
        await client.subscribe(topic, qos=1)
        messages = aiter(client.messages)
        while True:
            try:
                message = await asyncio.wait_for(anext(messages), scaled(1))
            except TimeoutError:
                return out
            if message.retain:
                out[message.topic.value] = bytes(message.payload)


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[Services]:
    """The service's workers running (no HTTP server), whether or not the broker lets it in."""
    crashes: list[BaseException] = []
    app = create_app(settings, on_fatal=crashes.append)
    async with app.router.lifespan_context(app):
        yield app.state.services
    assert not crashes


async def refused_loudly(settings: Settings) -> list[MutableMapping[str, Any]]:
    """Run the service for a few seconds: it must never connect; the error events it logged."""
    events = await refused_events(settings)
    return [e for e in events if e["event"] == "mqtt_disconnected" and e["log_level"] == "error"]


async def refused_events(settings: Settings) -> list[MutableMapping[str, Any]]:
    """Run the service for a few seconds: it must never connect; every event it logged."""
    with structlog.testing.capture_logs() as events:
        async with started(settings) as services:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(services.ingest.connected.wait(), scaled(3))
    return events
