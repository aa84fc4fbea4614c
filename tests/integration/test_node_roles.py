"""Scale-out by node role on the real Mosquitto and InfluxDB: ingest nodes share the load on an
MQTT shared subscription and store; a risk node sees every reading and keeps the colours."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import aiomqtt
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from marine_watch.errors import ConfigError
from marine_watch.settings import Settings, load_settings
from marine_watch.store.influx import InfluxStore
from tests.helpers import Running, serve
from tests.services import Broker, Influx, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]
N = 600  # readings, 100 per message


def _stored(node: Running) -> float:
    return node.services.metrics.registry.get_sample_value("mw_readings_stored_total") or 0.0


async def _publish(broker: Broker, root: str, now_s: float) -> None:
    """N wave heights (one batch message per 100) and a red tide level at Zhapu."""
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"pub-{time.monotonic_ns()}"
    ) as c:
        for m in range(N // 100):
            items = [
                {
                    "ts": int((now_s - 3600 + m * 100 + i) * 1000),
                    "value": 0.5,
                    "kind": "wave_height",
                }
                for i in range(100)
            ]
            await c.publish(f"{root}/dushan/batch", json.dumps(items).encode(), qos=1)
        for i in range(3):
            red = {"ts": int((now_s - 60 * i) * 1000), "value": 5.6, "unit": "m"}
            await c.publish(f"{root}/zhapu/tide_level", json.dumps(red).encode(), qos=1)


async def test_ingest_nodes_split_the_load_and_a_risk_node_keeps_the_colours(
    mosquitto: Broker,
    influxd: Influx,
    influx_db: str,
    make_settings: Callable[..., Settings],
    topic_root: str,
    mqtt_client_id: str,
    tmp_path: Path,
) -> None:
    """Two ingest nodes in one shared group store every reading once between them, each a part;
    the risk node stores none, sees all, and turns the village red; an ingest node serves no colours."""
    group = f"g{time.monotonic_ns()}"

    def node(role: str, name: str, **extra: object) -> Settings:
        return make_settings(
            mosquitto,
            influx=influxd,
            influx_db=influx_db,
            node_role=role,
            mqtt_client_id=f"{mqtt_client_id}-{name}",
            data_dir=tmp_path / name,
            **extra,
        )

    async with AsyncExitStack() as stack:
        workers = [
            await stack.enter_async_context(serve(node("ingest", f"w{i}", mqtt_shared_group=group)))
            for i in range(2)
        ]
        risk = await stack.enter_async_context(serve(node("risk", "risk")))
        ws = await stack.enter_async_context(connect(f"{risk.ws}/ws/risk"))
        assert json.loads(await ws.recv())["type"] == "snapshot"
        await _publish(mosquitto, topic_root, risk.services.clock.now())

        async with asyncio.timeout(scaled(30)):
            while True:
                message = json.loads(await ws.recv())
                if message.get("id") == "zhapu-harbour" and message.get("level") == 4:
                    break
        async with asyncio.timeout(scaled(30)):
            while sum(_stored(w) for w in workers) < N + 3:  # noqa: ASYNC110 - a counter, no event
                await asyncio.sleep(0.05)

        assert [_stored(w) > 0 for w in workers] == [True, True]  # the group split the messages
        assert _stored(risk) == 0  # the risk node stores nothing
        received = risk.services.metrics.registry.get_sample_value(
            "mw_readings_received_total", {"kind": "wave_height"}
        )
        assert received == N  # but it saw every reading
        store = InfluxStore(influxd.url, influx_db)
        try:
            assert await store.count() == N + 3  # each reading stored exactly once
        finally:
            await store.close()

        async with httpx.AsyncClient(base_url=workers[0].http) as http:
            refused = await http.get("/api/v1/risk", params={"lat": 30.6, "lon": 121.08})
            assert refused.status_code == 503
            assert "only ingests" in refused.json()["detail"]
            health = await http.get("/health")
            assert health.status_code == 200
            assert health.json()["node_role"] == "ingest"
        with pytest.raises(InvalidStatus) as refused_ws:
            async with connect(f"{workers[0].ws}/ws/risk"):
                pass
        assert refused_ws.value.response.status_code == 503


def test_a_risk_node_in_a_shared_group_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A risk node that would see only part of the readings stops start-up with the key named."""
    monkeypatch.setenv("MARINE_WATCH_NODE_ROLE", "risk")
    monkeypatch.setenv("MARINE_WATCH_MQTT_SHARED_GROUP", "ingest")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.key == "mqtt_shared_group"
    assert "every reading" in str(err.value)
