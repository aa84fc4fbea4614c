"""Ingest throughput, MQTT → decode + QC → InfluxDB, next to the raw aiomqtt subscriber ceiling.

Both sides drain the same backlog: the messages are queued at a private Mosquitto (shipped queue
limits) for a persistent QoS 1 session by ``mosquitto_pub -l`` (C, so the publisher is out of the
way), then the subscriber connects and the clock runs until the last reading is received (ceiling:
a bare aiomqtt client that only counts) or stored in a private InfluxDB (marine_watch: the whole
app, with acks after durable). As in the team's MQTT ceiling measurement, each reading is ~106 bytes of
JSON; a batch message carries 100 of them.

InfluxDB bounds the service too (~160k points/s from one writer here, more from two): each run also
measures what InfluxDB takes of the same points as pre-encoded line protocol in the service's
batch size, from one and from two concurrent writers, and reports the service against both.
"""

import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiomqtt
import httpx

from marine_watch.app import create_app
from marine_watch.settings import Settings
from marine_watch.store.influx import encode_lines
from sensors.reading import Reading
from tests.services import Broker, Influx, start_influxd, start_mosquitto

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
START_MS = int((time.time() - 30 * 86400) * 1000)
LIMITS = "max_queued_messages 1000000\nmax_queued_bytes 0\nmax_inflight_messages 100\n"
# label, readings per message, messages: backlogs the ceiling takes about a second to drain
CASES = (("batch of 100", 100, 8_000), ("1 reading", 1, 10_000))
WRITE_BATCH = Settings.model_fields["batch_max_readings"].default  # the service's batch size


def payload_lines(root: str, per_message: int, messages: int) -> tuple[str, list[str]]:
    """(topic, one JSON line per message); every reading has its own time."""
    station, seq = "zhapu", 0
    lines = []
    for m in range(messages):
        items = []
        for _ in range(per_message):
            item = {"ts": START_MS + seq * 1000, "value": round(1.0 + 0.001 * (seq % 500), 3)}
            items.append({**item, "unit": "m", "seq": seq, "kind": "tide_level"})
            seq += 1
        if per_message == 1:
            del items[0]["kind"]
            lines.append(json.dumps(items[0]))
        else:
            lines.append(json.dumps(items))
        del m
    kind = "tide_level" if per_message == 1 else "batch"
    return f"{root}/{station}/{kind}", lines


def queue_backlog(broker: Broker, topic: str, lines: list[str]) -> None:
    exe = shutil.which("mosquitto_pub") or sys.exit("mosquitto_pub missing (apt mosquitto-clients)")
    args = [exe, "-h", broker.host, "-p", str(broker.port), "-q", "1", "-t", topic, "-l"]
    subprocess.run(args, input="\n".join(lines).encode(), check=True)


async def make_session(broker: Broker, client_id: str, topic: str) -> None:
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=client_id, clean_session=False
    ) as client:
        await client.subscribe(topic, qos=1)


async def ceiling(broker: Broker, client_id: str, messages: int) -> float:
    """Seconds a bare aiomqtt subscriber takes to receive ``messages`` queued messages."""
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=client_id, clean_session=False
    ) as client:
        started, got = time.perf_counter(), 0
        async for _ in client.messages:
            got += 1
            if got == messages:
                return time.perf_counter() - started
    return float("nan")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def service(
    settings: Settings, readings: int, pids: dict[str, int]
) -> tuple[float, dict[str, float]]:
    """Seconds the app takes from start-up to ``readings`` stored (store count in its metrics),
    and the cores each process in ``pids`` used meanwhile."""
    app = create_app(settings, on_fatal=lambda exc: sys.exit(f"worker crashed: {exc!r}"))
    async with app.router.lifespan_context(app) as state:
        registry = state["services"].metrics.registry  # type: ignore[index]
        await state["services"].ingest.connected.wait()  # type: ignore[index]
        started, cpu = time.perf_counter(), {name: cpu_s(pid) for name, pid in pids.items()}
        while True:  # a counter to poll: the app has no event for "n readings stored"
            if (registry.get_sample_value("mw_readings_stored_total") or 0) >= readings:
                elapsed = time.perf_counter() - started
                cores = {n: (cpu_s(pid) - cpu[n]) / elapsed for n, pid in pids.items()}
                return elapsed, cores
            await asyncio.sleep(0.01)


def line_bodies(n: int) -> list[bytes]:
    """The points of the batched case, pre-encoded in bodies of the service's batch size."""
    readings = [
        Reading("zhapu", "tide_level", (START_MS + i * 1000) * 1_000_000, 1.0 + 0.001 * (i % 500))
        for i in range(n)
    ]
    return [encode_lines(readings[i : i + WRITE_BATCH]) for i in range(0, n, WRITE_BATCH)]


async def influx_ceiling(influx: Influx, bodies: list[bytes], writers: int) -> float:
    """Points/s InfluxDB takes of pre-encoded bodies POSTed by ``writers`` concurrent writers."""
    db = f"ceiling{writers}"
    points = sum(body.count(b"\n") for body in bodies)
    todo = iter(bodies)
    async with httpx.AsyncClient(base_url=influx.url, timeout=30.0) as http:
        await http.post("/query", params={"q": f'DROP DATABASE "{db}"'})
        await http.post("/query", params={"q": f'CREATE DATABASE "{db}"'})

        async def writer() -> None:
            for body in todo:  # shared iterator: each body is written once
                response = await http.post(
                    "/write", params={"db": db, "precision": "ns"}, content=body
                )
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(writers)))
        elapsed = time.perf_counter() - started
        await http.post("/query", params={"q": f'DROP DATABASE "{db}"'})
    return points / elapsed


async def one_case(broker: Broker, influx: Influx, tmp: Path, per_message: int, n: int) -> dict:
    root = f"bench/{uuid.uuid4().hex[:8]}/marine/v1"
    topic, lines = payload_lines(root, per_message, n)
    raw_id, app_id, db = f"raw-{uuid.uuid4().hex[:8]}", f"app-{uuid.uuid4().hex[:8]}", "bench"
    async with httpx.AsyncClient(base_url=influx.url) as http:
        await http.post("/query", params={"q": f'DROP DATABASE "{db}"'})
        await http.post("/query", params={"q": f'CREATE DATABASE "{db}"'})
    await make_session(broker, raw_id, f"{root}/#")
    queue_backlog(broker, topic, lines)
    raw_s = await ceiling(broker, raw_id, n)
    settings = Settings(
        config_dir=CONFIG_DIR,
        data_dir=tmp / app_id,
        mqtt_url=broker.url,
        mqtt_topic_root=root,
        mqtt_client_id=app_id,
        store="influxdb",
        influx_url=influx.url,
        influx_db=db,
        risk_tick_s=5.0,
    )
    await make_session(broker, app_id, f"{root}/#")
    queue_backlog(broker, topic, lines)
    assert broker.proc is not None
    assert influx.proc is not None
    pids = {"service": os.getpid(), "influxd": influx.proc.pid, "mosquitto": broker.proc.pid}
    app_s, cores = await service(settings, per_message * n, pids)
    readings = per_message * n
    return {
        "case": f"ingest, {per_message} reading(s)/message",
        "messages": n,
        "readings": readings,
        "ceiling_readings_per_s": round(readings / raw_s),
        "service_readings_per_s": round(readings / app_s),
        "ratio_to_ceiling": round(raw_s / app_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **{f"{name}_cores": round(used, 2) for name, used in cores.items()},
    }


def run() -> list[dict[str, object]]:
    """One row per case: readings/s of the service, of the raw subscriber and of InfluxDB alone."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp_dir:
        tmp = Path(tmp_dir)
        broker = start_mosquitto(tmp / "mosquitto", extra_conf=LIMITS)
        influx = start_influxd(tmp / "influxd")
        try:
            bodies = line_bodies(max(per_message * n for _, per_message, n in CASES))
            store = {w: asyncio.run(influx_ceiling(influx, bodies, w)) for w in (1, 2)}
            rows = [
                asyncio.run(one_case(broker, influx, tmp, per_message, n))
                for _, per_message, n in CASES
            ]
            for row in rows:
                for w, points_per_s in store.items():
                    row[f"influx_{w}_writer_points_per_s"] = round(points_per_s)
                    row[f"ratio_to_influx_{w}w"] = round(
                        row["service_readings_per_s"] / points_per_s, 2
                    )
            return rows
        finally:
            broker.stop()
            influx.stop()


def _markdown(rows: list[dict[str, object]]) -> str:
    cols = list(rows[0])
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols)
    body = [
        "| " + " | ".join(f"{r[c]:,}" if isinstance(r[c], int) else str(r[c]) for c in cols) + " |"
        for r in rows
    ]
    return "\n".join([head, *body])


if __name__ == "__main__":
    print(_markdown(run()))
