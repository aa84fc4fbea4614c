"""The whole cluster on a multi-host network (tests/netns.py): broker, InfluxDB, two ingest nodes,
a risk node, two API nodes and HAProxy, each in a host of its own, real `marine-watch serve`
processes configured by MARINE_WATCH_* only. While a station host drives readings, an ingest node
is killed mid-stream and restarted (every reading stored exactly once), an API node is killed
(websocket clients reconnect through HAProxy, resident lookups keep answering), and the risk
node's cable is pulled (the API nodes say its colours are stale, then recover)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.helpers import JsonObject, json_of
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

pytestmark = [pytest.mark.services, pytest.mark.timeout(420)]
MARINE_WATCH = str(Path(sys.executable).with_name("marine-watch"))
N = 1500  # readings driven through the cluster
STATION, KIND = "buoy-dushan", "wave_height"
QUANTANG = {"lat": 30.6325, "lon": 121.126}  # a village the buoy's waves drive (Quantang)
MAX_AGE_S = 3.0  # the API nodes' colours_max_age_s


@dataclass
class Cluster:
    broker: HostServer
    influx: HostServer
    nodes: dict[str, HostProcess]
    hosts: dict[str, Host]
    lb: Haproxy
    client: Host


def _node(
    host: Host, broker: HostServer, influx: HostServer, tmp: Path, role: str, **env: str
) -> HostProcess:
    """`marine-watch serve` in ``host`` on :8000 with a fixed client id (its session survives)."""
    settings = {
        "NODE_ROLE": role,
        "CONFIG_DIR": str(CONFIG_DIR),
        "DATA_DIR": str(tmp / host.name),
        "MQTT_URL": broker.url,
        "MQTT_CLIENT_ID": f"mw-{host.name}",
        "MQTT_TOPIC_ROOT": "marine/v1",
        "STORE": "influxdb",
        "INFLUX_URL": influx.url,
        "INFLUX_DB": "marine_watch",
        "HTTP_HOST": host.ip,
        "HTTP_PORT": "8000",
        "RISK_TICK_S": "0.5",
        "BATCH_MAX_WAIT_S": "0.05",
        **env,
    }
    full = {f"MARINE_WATCH_{k}": v for k, v in settings.items()}
    proc = host.spawn([MARINE_WATCH, "serve"], name="marine-watch", env=full)
    wait_http(HostServer(host, proc, f"http://{host.ip}:8000", 8000), "/health", 200, timeout=90)
    return proc


def _build(netns: Network, tmp: Path) -> Cluster:
    broker = start_mosquitto_on(netns.add_host("broker"), tmp / "mosquitto")
    influx = start_influxd_on(netns.add_host("db"), tmp / "influxd")
    hosts = {name: netns.add_host(name) for name in ("ingest1", "ingest2", "risk", "api1", "api2")}
    lb_host = netns.add_host("lb")
    nodes = {
        name: _node(hosts[name], broker, influx, tmp, "ingest", MQTT_SHARED_GROUP="ingest")
        for name in ("ingest1", "ingest2")
    }
    nodes["risk"] = _node(hosts["risk"], broker, influx, tmp, "risk")
    for name in ("api1", "api2"):
        nodes[name] = _node(
            hosts[name],
            broker,
            influx,
            tmp,
            "api",
            COLOURS_MAX_AGE_S=str(MAX_AGE_S),
            FORWARDED_ALLOW_IPS=lb_host.ip,
        )
    servers = [(name, f"{hosts[name].ip}:8000") for name in ("api1", "api2")]
    lb = start_haproxy(lb_host, tmp / "haproxy", servers)
    for name in ("api1", "api2"):
        lb.wait_status("api_http", name, "UP", timeout=30)
    return Cluster(broker, influx, nodes, hosts, lb, netns.add_host("client"))


def _reading(i: int, start_s: float) -> bytes:
    """The i-th wave height: one a second, smooth (no QC flag), all within the last hour."""
    return json.dumps({"ts": int((start_s + i) * 1000), "value": 1.0 + 0.1 * (i % 5) / 5}).encode()


async def _drive(cluster: Cluster, start_s: float) -> None:
    """Publish N readings from the station's host; kill ingest1 at a third, restart it at two."""
    ingest1 = cluster.nodes["ingest1"]
    async with aiomqtt.Client(
        cluster.broker.host.ip, cluster.broker.port, identifier=f"station-{STATION}"
    ) as pub:
        for i in range(N):
            if i == N // 3:
                await asyncio.to_thread(ingest1.kill)  # SIGKILL mid-stream, unacked in flight
            if i == 2 * N // 3:
                await asyncio.to_thread(ingest1.start)  # same client id: its session resumes
            await pub.publish(f"marine/v1/{STATION}/{KIND}", _reading(i, start_s), qos=1)


async def _stored(http: httpx.AsyncClient, start_s: float) -> tuple[int, int]:
    """(points, distinct times) of the driven series in InfluxDB."""
    window = f"time >= {int(start_s * 1000)}ms AND time < {int((start_s + N) * 1000)}ms"
    where = f"station='{STATION}' AND kind='{KIND}' AND {window}"
    points = await _count(http, f"SELECT count(value) FROM reading WHERE {where}")
    distinct = await _count(
        http,
        f"SELECT count(n) FROM (SELECT count(value) AS n FROM reading WHERE {where} GROUP BY time(1s))",
    )
    return points, distinct


async def _count(http: httpx.AsyncClient, query: str) -> int:
    body = (await http.get("/query", params={"db": "marine_watch", "q": query})).json()
    series = body["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


async def _resident(http: httpx.AsyncClient) -> JsonObject:
    answer = await http.get("/api/v1/risk", params=QUANTANG)
    assert answer.status_code == 200, answer.text
    return json_of(answer)


async def _snapshot(url: str) -> tuple[ClientConnection, JsonObject]:
    ws = await connect(url, open_timeout=scaled(10))
    return ws, json.loads(await ws.recv())


async def test_the_cluster_survives_losing_an_ingest_node_an_api_node_and_its_risk_node(
    netns: Network, tmp_path: Path
) -> None:
    cluster = _build(netns, tmp_path)
    start_s = time.time() - N - 60
    async with cluster.client.entered_async():
        await _drive(cluster, start_s)
        async with httpx.AsyncClient(base_url=cluster.influx.url, timeout=10.0) as db:
            async with asyncio.timeout(scaled(60)):
                while (await _stored(db, start_s))[0] < N:  # noqa: ASYNC110 - polling InfluxDB
                    await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # redeliveries still on their way would show now
            assert await _stored(db, start_s) == (N, N)  # every reading once, none twice

        lb_http = httpx.AsyncClient(base_url=cluster.lb.url, timeout=10.0)
        async with lb_http:
            async with asyncio.timeout(scaled(30)):
                # the waves reach the API nodes through the risk node
                while (first := await _resident(lb_http))["level"] != 0:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
            assert first["freshness"]["stale"] is False
            ws_url = f"ws://{cluster.lb.host.ip}/ws/risk"
            sockets = [await _snapshot(ws_url) for _ in range(6)]
            assert all(s["type"] == "snapshot" for _, s in sockets)

            # An API node dies: HAProxy resends its requests, its websockets reconnect to the other.
            await asyncio.to_thread(cluster.nodes["api1"].kill)
            codes = []
            for _ in range(30):
                codes.append((await lb_http.get("/api/v1/risk", params=QUANTANG)).status_code)
                await asyncio.sleep(0.1)
            assert codes == [200] * 30
            await asyncio.to_thread(cluster.lb.wait_status, "api_http", "api1", "DOWN", 15)
            for ws, _ in sockets:
                await ws.close()
            again = [await _snapshot(ws_url) for _ in range(6)]
            assert all(s["type"] == "snapshot" for _, s in again)
            places = {p["id"]: p["level"] for p in again[0][1]["places"]}
            assert places["quantang"] == 0

            # The risk node's cable is pulled: no heartbeats, so the colours are no longer current.
            await asyncio.to_thread(cluster.hosts["risk"].link_down)
            cut_at = time.monotonic()
            ws = again[0][0]
            async with asyncio.timeout(scaled(MAX_AGE_S + 10)):
                while True:
                    message = json.loads(await ws.recv())
                    if message.get("id") == "quantang" and message.get("level") == -1:
                        break
            assert time.monotonic() - cut_at >= MAX_AGE_S - 1.0
            stale = await _resident(lb_http)
            assert (stale["level"], stale["colour"]) == (-1, "unknown")
            assert stale["freshness"]["stale"] is True
            assert "no colours from the risk node" in str(stale["explanation"])

            await asyncio.to_thread(cluster.hosts["risk"].link_up)
            async with asyncio.timeout(scaled(90)):
                while True:
                    message = json.loads(await ws.recv())
                    if message.get("id") == "quantang" and message.get("level") == 0:
                        break
            back = await _resident(lb_http)
            assert back["level"] == 0
            assert back["freshness"]["stale"] is False
            for ws, _ in again:
                await ws.close()
