"""Websocket benchmarks of /ws/risk: reading → colour change under load, and fan-out to many clients.

(a) Latency: the service (uvicorn, 1 worker, SQLite store, hold time 0) reads a private Mosquitto
while a separate publisher process sends batched readings at FLOOD_RATE readings/s and, once a
second, flips a dedicated buoy between two wave heights whose colours differ. The flip reading's
timestamp is its publish time; the colour change carries it back (``explanation.peak_time_s``), so
a websocket client on /ws/risk measures publish → receipt on one clock.

(b) Fan-out: FANOUT_CLIENTS clients on /ws/risk (one client process, benchmarks/baselines/ws_fanout.py
``--url``), one colour change a second, latency from the message's ``ts`` (start of the evaluation
that produced it); next to the raw ``websockets`` broadcast at the same clients and rate, in the same
run. Also checks that the service refuses permessage-deflate.

The bench config adds two stations that exist only here: ``bench-flip`` in village danghu-west (the
flip) and ``bench-steady`` (orange waves) in danghu-east, so that town and city stay orange and each
flip changes exactly one place, i.e. one frame per client per second. Filler readings go to buoy-bay,
which belongs to no zone. Runs for about three minutes.
"""

import asyncio
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

from benchmarks.service_proc import bench_config, free_port, service
from tests.services import start_mosquitto

FANOUT_SCRIPT = Path(__file__).resolve().parent / "baselines" / "ws_fanout.py"
FLOOD_RATE = int(os.environ.get("FLOOD_RATE", "10000"))  # readings/s
FLOOD_S = float(os.environ.get("FLOOD_S", "30"))
WARMUP_S = 5.0
# 10,000 is the aim; ws_fanout.py asks for 2 n + 64 fds and the hard limit here is 20,000
FANOUT_CLIENTS = int(os.environ.get("FANOUT_CLIENTS", "9950"))
FANOUT_S = float(os.environ.get("FANOUT_S", "15"))
BATCH = 100  # readings per MQTT message
ROOT = "bench/marine/v1"
FLIP_STATION, STEADY_STATION, FILLER_STATION = "bench-flip", "bench-steady", "buoy-bay"
FLIP_VILLAGE, STEADY_VILLAGE = "danghu-west", "danghu-east"
FLIP_LOW_M, FLIP_HIGH_M, STEADY_M = 1.0, 3.0, 5.0  # nearshore: none, blue, orange
FILLER = {  # kind: (base, noise), inside physical range and spike limits
    "wave_height": (1.5, 0.2),
    "wave_period": (7.0, 0.5),
    "wave_direction": (120.0, 10.0),
    "wind_speed": (6.0, 0.5),
    "wind_gust": (8.0, 0.5),
    "wind_direction": (90.0, 10.0),
    "air_pressure": (1010.0, 0.3),
}
STATION_TOML = """
[[stations]]
id = "{id}"
region = "pinghu"
name = "Benchmark wave buoy {id}"
lat = 30.70
lon = 121.02
kinds = ["wave_height"]
expected_interval_s = 600
sample = true
exposure = "nearshore"
"""


def scenario_config() -> Path:
    """config/ with hold time 0 and the two benchmark-only stations in the Danghu villages."""
    target = bench_config(hold_time_s=0)
    with (target / "stations.toml").open("a", encoding="utf-8") as out:
        out.writelines(STATION_TOML.format(id=s) for s in (FLIP_STATION, STEADY_STATION))
    zones_path = target / "zones.geojson"
    zones = json.loads(zones_path.read_text(encoding="utf-8"))
    for feature in zones["features"]:
        props = feature["properties"]
        if props["id"] in (FLIP_VILLAGE, STEADY_VILLAGE):
            props["stations"] = [FLIP_STATION if props["id"] == FLIP_VILLAGE else STEADY_STATION]
    zones_path.write_text(json.dumps(zones), encoding="utf-8")
    return target


def publish(port: int, rate: int, duration_s: float, flips_path: str) -> None:
    """Publisher process: filler batches at ``rate`` readings/s, one flip a second, steady orange."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    rng = random.Random(1)
    kinds = list(FILLER)
    next_ts = dict.fromkeys(kinds, int(time.time() * 1000) - 120_000)  # unique ms per series
    flips: list[int] = []
    start = time.monotonic()
    sent, high = 0, False
    while (elapsed := time.monotonic() - start) < duration_s:
        if elapsed >= len(flips):  # flip k at second k
            high = not high
            ts = int(time.time() * 1000)
            value = FLIP_HIGH_M if high else FLIP_LOW_M
            client.publish(
                f"{ROOT}/{FLIP_STATION}/wave_height", json.dumps({"ts": ts, "value": value})
            )
            client.publish(
                f"{ROOT}/{STEADY_STATION}/wave_height", json.dumps({"ts": ts, "value": STEADY_M})
            )
            flips.append(ts)
        while rate and sent < rate * elapsed:
            items = []
            for i in range(BATCH):
                kind = kinds[(sent + i) % len(kinds)]
                base, noise = FILLER[kind]
                next_ts[kind] += 1
                items.append(
                    {
                        "ts": next_ts[kind],
                        "value": round(base + rng.uniform(-noise, noise), 2),
                        "kind": kind,
                    }
                )
            client.publish(f"{ROOT}/{FILLER_STATION}/batch", json.dumps(items))
            sent += BATCH
        time.sleep(0.01)
    client.loop_stop()
    client.disconnect()
    Path(flips_path).write_text(json.dumps({"flips": flips, "readings": sent}), encoding="utf-8")


def start_publisher(
    port: int, rate: int, duration_s: float
) -> tuple[multiprocessing.Process, Path]:
    flips = Path(tempfile.mkstemp(prefix="mw-bench-flips-", suffix=".json")[1])
    proc = multiprocessing.get_context("spawn").Process(
        target=publish, args=(port, rate, duration_s, str(flips)), name="bench-publisher"
    )
    proc.start()
    return proc, flips


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def watch_flips(port: int, duration_s: float) -> dict[int, float]:
    """Receive /ws/risk for ``duration_s``; the receipt time of each flip, by its reading's ts (ms)."""
    received: dict[int, float] = {}
    async with connect(f"ws://127.0.0.1:{port}/ws/risk", max_size=None) as ws:
        deadline = time.monotonic() + duration_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                text = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            now = time.time()
            message = json.loads(text)
            if message.get("id") == FLIP_VILLAGE and message.get("explanation"):
                ts_ms = round(float(message["explanation"]["peak_time_s"]) * 1000)
                received.setdefault(ts_ms, now)
    return received


def latency_under_load() -> dict[str, object]:
    """(a) publish → /ws/risk colour change while FLOOD_RATE readings/s flow."""
    tmp = Path(tempfile.mkdtemp(prefix="mw-bench-broker-"))
    broker = start_mosquitto(tmp, extra_conf="max_queued_messages 100000\n")
    try:
        config = scenario_config()
        with service(
            config_dir=str(config), mqtt_url=broker.url, mqtt_topic_root=ROOT, store="sqlite"
        ) as port:
            time.sleep(1.0)  # ingest subscribes
            proc, flips_path = start_publisher(broker.port, FLOOD_RATE, FLOOD_S)
            received = asyncio.run(watch_flips(port, FLOOD_S + 10))
            proc.join(30)
            sent = json.loads(flips_path.read_text(encoding="utf-8"))
    finally:
        broker.stop()
    flips: list[int] = sent["flips"][1:]  # the first sets the initial colour
    window = [ts for ts in flips if ts - flips[0] >= WARMUP_S * 1000]
    latencies = [received[ts] - ts / 1000 for ts in window if ts in received]
    return {
        "case": f"reading → /ws/risk colour change at {FLOOD_RATE:,} readings/s",
        "published_readings_per_s": round(sent["readings"] / FLOOD_S),
        "flips": len(window),
        "delivered_pct": round(100 * len(latencies) / len(window), 1) if window else None,
        "p50_ms": _ms(pct(latencies, 50)),
        "p99_ms": _ms(pct(latencies, 99)),
        "max_ms": _ms(max(latencies, default=None)),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def fanout(clients: int, url: str | None = None) -> dict[str, object]:
    """One ws_fanout.py level at 1 Hz: its own websockets server, or ``url`` (the service)."""
    args = [sys.executable, str(FANOUT_SCRIPT), "--clients", str(clients), "--hz", "1"]
    args += ["--duration", f"{FANOUT_S:g}", "--warmup", "3", "--connect-phase-timeout", "90"]
    args += ["--url", url, "--ts-field", "ts"] if url else ["--port", str(free_port())]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=300).stdout
    level: dict[str, object] = json.loads(out.strip().splitlines()[-1])["levels"][0]
    return level


async def deflate_refused(port: int) -> bool:
    """True when the service answers a client that offers permessage-deflate without it."""
    async with connect(f"ws://127.0.0.1:{port}/ws/risk", compression="deflate") as ws:
        assert ws.response is not None
        return "Sec-WebSocket-Extensions" not in ws.response.headers


def fanout_rows() -> list[dict[str, object]]:
    """(b) FANOUT_CLIENTS on /ws/risk at one change a second, beside the raw broadcast."""
    raw = fanout(FANOUT_CLIENTS)
    tmp = Path(tempfile.mkdtemp(prefix="mw-bench-broker-"))
    broker = start_mosquitto(tmp)
    try:
        with service(
            config_dir=str(scenario_config()), mqtt_url=broker.url, mqtt_topic_root=ROOT
        ) as port:
            time.sleep(1.0)
            proc, _ = start_publisher(broker.port, 0, 300.0)
            try:
                no_deflate = asyncio.run(deflate_refused(port))
                ours = fanout(FANOUT_CLIENTS, f"ws://127.0.0.1:{port}/ws/risk")
            finally:
                proc.terminate()
                proc.join(10)
    finally:
        broker.stop()
    return [
        {"case": f"raw websockets broadcast, {FANOUT_CLIENTS:,} clients × 1 Hz", **raw},
        {
            "case": f"service /ws/risk, {FANOUT_CLIENTS:,} clients × 1 change/s",
            **ours,
            "deflate_refused": no_deflate,
        },
    ]


def raise_nofile(wanted: int) -> None:
    """Raise the fd limit to ``wanted`` if allowed (root may lift the hard limit), else to the hard one."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(wanted, hard), max(wanted, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run() -> list[dict[str, object]]:
    raise_nofile(4 * FANOUT_CLIENTS)  # children inherit it; ws_fanout wants 2 n + 64
    return [latency_under_load(), *fanout_rows()]


def table(rows: list[dict[str, object]]) -> str:
    cols = ["case", "published_readings_per_s", "flips", "connected", "delivered_pct"]
    cols += ["p50_ms", "p99_ms", "max_ms", "lat_ms_p50", "lat_ms_p99", "lat_ms_max"]
    cols += ["connect_s", "server_cpu_pct", "ticks_per_s", "deflate_refused", "error"]
    cols = [c for c in cols if any(c in r for r in rows)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run()))
