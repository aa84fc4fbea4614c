"""The tests' private Mosquitto and InfluxDB in hosts of their own, and a real marine_watch node
(``marine-watch serve``, configured by MARINE_WATCH_* only) plugged in behind HAProxy."""

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import aiomqtt
import httpx
import pytest
from websockets.asyncio.client import connect

from tests.netns import Host, HostProcess, Network
from tests.netns_servers import (
    Haproxy,
    HostServer,
    start_haproxy,
    start_influxd_on,
    start_mosquitto_on,
    wait_http,
)
from tests.services import CONFIG_DIR, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]
MARINE_WATCH = str(Path(sys.executable).with_name("marine-watch"))


async def _mqtt_round_trip(client: Host, broker: HostServer, topic: str) -> bytes:
    async with client.entered_async():
        sub = aiomqtt.Client(broker.host.ip, broker.port, identifier=f"sub-{uuid.uuid4().hex}")
        pub = aiomqtt.Client(broker.host.ip, broker.port, identifier=f"pub-{uuid.uuid4().hex}")
        async with sub, pub:
            await sub.subscribe(topic, qos=1)
            await pub.publish(topic, b"across the bridge", qos=1)
            async for message in sub.messages:
                return bytes(message.payload)
    msg = "no message"
    raise AssertionError(msg)


async def test_mosquitto_and_influxdb_serve_other_hosts(netns: Network, tmp_path: Path) -> None:
    """Broker and database each in a host, bound to its address; a third host uses both."""
    broker = start_mosquitto_on(netns.add_host("broker"), tmp_path / "mosquitto")
    influx = start_influxd_on(netns.add_host("db"), tmp_path / "influxd")
    client = netns.add_host("client")
    assert await _mqtt_round_trip(client, broker, "t/netns") == b"across the bridge"
    with client.entered():
        async with httpx.AsyncClient(base_url=influx.url, timeout=10.0) as http:
            await http.post("/query", params={"q": "CREATE DATABASE probe"})
            write = await http.post("/write", params={"db": "probe"}, content=b"m v=1.5 1000")
            assert write.status_code == 204
            rows = await http.get("/query", params={"db": "probe", "q": "SELECT v FROM m"})
    assert rows.json()["results"][0]["series"][0]["values"] == [
        ["1970-01-01T00:00:00.000001Z", 1.5]
    ]


def _node(host: Host, broker: HostServer, influx: HostServer, tmp: Path, **env: str) -> HostProcess:
    """``marine-watch serve`` in ``host`` on :8000, the sample coast, InfluxDB store."""
    settings = {
        "CONFIG_DIR": str(CONFIG_DIR),
        "DATA_DIR": str(tmp / host.name),
        "MQTT_URL": broker.url,
        "MQTT_CLIENT_ID": f"mw-{host.name}-{uuid.uuid4().hex[:8]}",
        "MQTT_TOPIC_ROOT": "marine/v1",
        "STORE": "influxdb",
        "INFLUX_URL": influx.url,
        "INFLUX_DB": "marine_watch",
        "HTTP_HOST": host.ip,
        "HTTP_PORT": "8000",
        "RISK_TICK_S": "0.5",
        "RATE_LIMIT_PER_S": "0.5",
        "RATE_LIMIT_BURST": "5",
    }
    full = {f"MARINE_WATCH_{k}": v for k, v in settings.items()} | env
    proc = host.spawn([MARINE_WATCH, "serve"], name="marine-watch", env=full)
    wait_http(HostServer(host, proc, f"http://{host.ip}:8000", 8000), "/health", 200, timeout=60)
    return proc


def _build(netns: Network, tmp_path: Path) -> tuple[HostServer, HostServer, Host, Haproxy]:
    broker = start_mosquitto_on(netns.add_host("broker"), tmp_path / "mosquitto")
    influx = start_influxd_on(netns.add_host("db"), tmp_path / "influxd")
    node_host = netns.add_host("node")
    lb = start_haproxy(
        netns.add_host("lb"), tmp_path / "haproxy", [("node", f"{node_host.ip}:8000")]
    )
    return broker, influx, node_host, lb


async def test_a_real_node_serves_through_haproxy_and_leaves_it_while_degraded(
    netns: Network, tmp_path: Path
) -> None:
    """The service in a host behind HAProxy: health and /ws/risk through it, a reading from another
    host stored; the broker killed, its /health says 503 and HAProxy takes it out until it is back."""
    broker, influx, node_host, lb = _build(netns, tmp_path)
    _node(node_host, broker, influx, tmp_path)
    lb.wait_status("api_http", "node", "UP")
    client = netns.add_host("client")
    ts_ms = int(time.time() * 1000)
    async with client.entered_async():
        async with httpx.AsyncClient(base_url=lb.url, timeout=10.0) as http:
            health = (await http.get("/health")).json()
        async with connect(f"ws://{lb.host.ip}/ws/risk") as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
        async with aiomqtt.Client(broker.host.ip, broker.port, identifier="netns-pub") as pub:
            reading = {"ts": ts_ms, "value": 1.25}
            await pub.publish("marine/v1/dushan/wave_height", json.dumps(reading), qos=1)
    assert (health["status"], health["mqtt"], health["store"]["reachable"]) == (
        "ok",
        "connected",
        True,
    )
    assert await _stored(client, influx, ts_ms) == 1.25

    broker.proc.kill()
    lb.wait_status("api_http", "node", "DOWN", timeout=15)
    broker.proc.restart()
    broker.proc.wait_port(broker.port)
    lb.wait_status("api_http", "node", "UP", timeout=60)


async def _stored(client: Host, influx: HostServer, ts_ms: int) -> float:
    query = f"SELECT value FROM reading WHERE station='dushan' AND time = {ts_ms}ms"
    deadline = time.monotonic() + scaled(20)
    with client.entered():
        async with httpx.AsyncClient(base_url=influx.url, timeout=5.0) as http:
            while time.monotonic() < deadline:
                body = (await http.get("/query", params={"db": "marine_watch", "q": query})).json()
                series = body["results"][0].get("series")
                if series:
                    return float(series[0]["values"][0][1])
                await asyncio.sleep(0.1)  # polling a condition
    msg = "reading not stored"
    raise AssertionError(msg)


def _burst_then_other(first: Host, second: Host, url: str) -> tuple[list[int], int]:
    """Six rate-limited requests from ``first`` (burst 5), then one from ``second``."""
    with first.entered(), httpx.Client(timeout=5.0) as http:
        codes = [http.get(url).status_code for _ in range(6)]
    with second.entered(), httpx.Client(timeout=5.0) as http:
        return codes, http.get(url).status_code


def test_rate_limits_are_per_client_only_when_the_node_trusts_haproxy(
    netns: Network, tmp_path: Path
) -> None:
    """Behind HAProxy every request comes from its address: the node's per-client rate limit is one
    bucket for everybody unless the node takes X-Forwarded-For from HAProxy
    (MARINE_WATCH_FORWARDED_ALLOW_IPS; by default it trusts nobody's)."""
    broker, influx, node_host, lb = _build(netns, tmp_path)
    one, two = netns.add_host("one"), netns.add_host("two")
    url = f"{lb.url}/api/v1/roads"

    node = _node(node_host, broker, influx, tmp_path)
    lb.wait_status("api_http", "node", "UP")
    assert _burst_then_other(one, two, url) == ([200] * 5 + [429], 429)  # one shared bucket

    node.terminate()
    node = _node(node_host, broker, influx, tmp_path, MARINE_WATCH_FORWARDED_ALLOW_IPS=lb.host.ip)
    lb.wait_status("api_http", "node", "UP", timeout=15)
    assert _burst_then_other(one, two, url) == ([200] * 5 + [429], 200)  # a bucket per client
