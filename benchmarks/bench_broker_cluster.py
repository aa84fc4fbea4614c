"""The broker tier on a 3-node NATS cluster, next to one Mosquitto in the same run.

**Throughput.** The same service (its own process, MQTT 3.1.1, batched InfluxDB writes, ack after
durable) drains the same stream of 100-reading messages, published at QoS 1 by ``mosquitto_pub -l``
(a C publisher) while the service is connected: once through a single Mosquitto (the baseline),
once through node 2 of a NATS cluster whose every session, queue and retained message is
replicated to all three nodes (``stream_replicas: 3``) while the service is on node 1. The clock
runs from the first publish until the service's stored counter holds every reading. Both run
twice, in the order Mosquitto, NATS, NATS, Mosquitto; the best of each is kept.

**Failover gap.** A publisher sends one reading every 50 ms through a node the service is not on;
the node the service is on is SIGKILLed; the gap is the time from the kill to the first stored
reading (InfluxDB) that was published after the kill. Three kills, the node restarted and the
cluster settled between them. Everything shares the machine's two cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiomqtt
import httpx

from benchmarks.bench_ingest import LIMITS, payload_lines
from benchmarks.service_proc import service
from tests.nats_cluster import NatsCluster, start_cluster
from tests.services import HOST, Influx, start_influxd, start_mosquitto

MESSAGES = 2_000  # of 100 readings
KILLS = 3
STORED = re.compile(rb"^mw_readings_stored_total ([0-9.e+]+)$", re.MULTILINE)
SERVICE = "marine-watch"


def _stored(http: httpx.Client, port: int) -> float:
    found = STORED.search(http.get(f"http://127.0.0.1:{port}/metrics").content)
    return float(found.group(1)) if found else 0.0


def _health(http: httpx.Client, port: int, timeout_s: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            answer = http.get(f"http://127.0.0.1:{port}/health")
            if answer.status_code == httpx.codes.OK:
                body: dict[str, object] = answer.json()
                return body
        time.sleep(0.1)
    msg = f"service on port {port} never reported healthy"
    raise RuntimeError(msg)


def _publish(port: int, topic: str, lines: list[str], account: tuple[str, str] | None) -> None:
    exe = shutil.which("mosquitto_pub") or sys.exit("mosquitto_pub missing (apt mosquitto-clients)")
    args = [exe, "-h", HOST, "-p", str(port), "-q", "1", "-V", "mqttv311", "-t", topic, "-l"]
    if account is not None:
        args += ["-u", account[0], "-P", account[1]]
    subprocess.run(args, input="\n".join(lines).encode(), check=True)


def _reset(http: httpx.Client, influx: Influx, db: str) -> None:
    http.post(f"{influx.url}/query", params={"q": f'DROP DATABASE "{db}"'})
    http.post(f"{influx.url}/query", params={"q": f'CREATE DATABASE "{db}"'})


def throughput(
    label: str, urls: str, publish_port: int, account: tuple[str, str] | None, influx: Influx
) -> dict[str, object]:
    root, db = f"bench/{uuid.uuid4().hex[:8]}/marine/v1", "cluster"
    topic, lines = payload_lines(root, 100, MESSAGES)
    readings = 100 * MESSAGES
    creds = {} if account is None else {"mqtt_username": account[0], "mqtt_password": account[1]}
    with httpx.Client(timeout=30.0) as http:
        _reset(http, influx, db)
        with service(
            mqtt_url=urls,
            mqtt_protocol="3.1.1",
            mqtt_topic_root=root,
            store="influxdb",
            influx_url=influx.url,
            influx_db=db,
            **creds,
        ) as port:
            _health(http, port)
            started = time.perf_counter()
            _publish(publish_port, topic, lines, account)
            published_s = time.perf_counter() - started
            while _stored(http, port) < readings:
                if time.perf_counter() - started > 600:
                    msg = f"{label}: {_stored(http, port)} of {readings} stored in 600 s"
                    raise RuntimeError(msg)
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
    return {
        "case": label,
        "readings": readings,
        "readings_per_s": round(readings / elapsed),
        "publisher_done_s": round(published_s, 2),
    }


async def _count_after(http: httpx.AsyncClient, influx: Influx, db: str, after_ns: int) -> int:
    q = f'SELECT count("value") FROM "reading" WHERE time > {after_ns}'
    answer = (await http.get(f"{influx.url}/query", params={"db": db, "q": q})).json()
    series = answer["results"][0].get("series", [])
    return int(series[0]["values"][0][1]) if series else 0


async def _trickle(port: int, account: tuple[str, str], topic: str, stop: asyncio.Event) -> None:
    """One reading every 50 ms, each with the wall-clock time it is sent; resend on a lost link."""
    while not stop.is_set():
        with contextlib.suppress(aiomqtt.MqttError):
            async with aiomqtt.Client(
                HOST,
                port,
                identifier=f"trickle-{port}",
                username=account[0],
                password=account[1],
                protocol=aiomqtt.ProtocolVersion.V311,
                timeout=5,
            ) as client:
                while not stop.is_set():
                    body = {"ts": int(time.time() * 1000), "value": 1.0, "unit": "m"}
                    await client.publish(topic, json.dumps(body), qos=1, timeout=5)
                    await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)


async def _healthy_again(http: httpx.AsyncClient, port: int, killed: float) -> float:
    """Seconds from the kill until /health is 200 again, after it was 503 (polled every 50 ms)."""
    url, down = f"http://127.0.0.1:{port}/health", False
    while True:
        ok = (await http.get(url)).status_code == httpx.codes.OK
        if not ok:
            down = True
        elif down or time.monotonic() - killed > 5.0:  # never seen down in 5 s: it did not notice
            return time.monotonic() - killed
        await asyncio.sleep(0.05)


async def _one_gap(
    nats: NatsCluster, http: httpx.AsyncClient, port: int, influx: Influx, db: str, root: str
) -> dict[str, float]:
    health = (await http.get(f"http://127.0.0.1:{port}/health")).json()
    url = health["mqtt_brokers"]["ingest"]["broker"]
    victim = nats.index_of(int(url.rsplit(":", 1)[1]))
    through = next(i for i in range(3) if i != victim)
    account = (SERVICE, nats.user(SERVICE).password)
    stop = asyncio.Event()
    topic = f"{root}/zhapu/tide_level"
    trickle = asyncio.create_task(_trickle(nats.nodes[through].ports["mqtt"], account, topic, stop))
    await asyncio.sleep(2.0)  # a steady stream first
    killed_ns, killed = time.time_ns(), time.monotonic()
    nats.kill(victim)
    healthy = asyncio.create_task(_healthy_again(http, port, killed))
    while await _count_after(http, influx, db, killed_ns) == 0:
        if time.monotonic() - killed > 120:
            msg = "nothing stored within 120 s of the kill"
            raise RuntimeError(msg)
        await asyncio.sleep(0.05)
    gap = time.monotonic() - killed
    healthy_s = await healthy
    stop.set()
    await trickle
    await asyncio.to_thread(nats.start, victim)  # back, and the cluster settled, for the next kill
    return {"gap_s": gap, "healthy_s": healthy_s}


def failover(nats: NatsCluster, influx: Influx) -> dict[str, object]:
    root, db = f"bench/{uuid.uuid4().hex[:8]}/marine/v1", "failover"
    user = nats.user(SERVICE)

    async def measure(port: int) -> list[dict[str, float]]:
        async with httpx.AsyncClient(timeout=10.0) as http:
            return [await _one_gap(nats, http, port, influx, db, root) for _ in range(KILLS)]

    with httpx.Client(timeout=30.0) as http:
        _reset(http, influx, db)
        with service(
            mqtt_url=nats.mqtt_url_list,
            mqtt_protocol="3.1.1",
            mqtt_username=user.name,
            mqtt_password=user.password,
            mqtt_topic_root=root,
            store="influxdb",
            influx_url=influx.url,
            influx_db=db,
            batch_max_wait_s=0.05,
        ) as port:
            _health(http, port)
            gaps = asyncio.run(measure(port))
    return {
        "case": f"failover: the service's NATS node SIGKILLed ({KILLS} kills)",
        "gap_to_next_stored_s": " / ".join(f"{g['gap_s']:.1f}" for g in gaps),
        "median_gap_s": round(statistics.median(g["gap_s"] for g in gaps), 1),
        "health_ok_again_s": " / ".join(f"{g['healthy_s']:.1f}" for g in gaps),
    }


def run() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp_dir:
        tmp = Path(tmp_dir)
        mosquitto = start_mosquitto(tmp / "mosquitto", extra_conf=LIMITS)
        influx = start_influxd(tmp / "influxd")
        nats = start_cluster(tmp / "nats", (SERVICE,))
        try:
            user = nats.user(SERVICE)
            account = (user.name, user.password)
            one = ("single Mosquitto", mosquitto.url, mosquitto.port, None)
            # the service starts on node 1 (first URL); the stream goes in through node 2
            cluster = (
                "NATS cluster, 3 nodes, R3",
                nats.mqtt_url_list,
                nats.nodes[1].ports["mqtt"],
                account,
            )
            tries = [throughput(*case, influx) for case in (one, cluster, cluster, one)]
            rows = [
                max(
                    (t for t in tries if t["case"] == c),
                    key=lambda t: int(str(t["readings_per_s"])),
                )
                for c in (one[0], cluster[0])
            ]
            base = int(str(rows[0]["readings_per_s"]))
            for row in rows:
                row["vs_mosquitto"] = round(int(str(row["readings_per_s"])) / base, 2)
            rows.append(failover(nats, influx))
        finally:
            nats.stop()
            mosquitto.stop()
            influx.stop()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
