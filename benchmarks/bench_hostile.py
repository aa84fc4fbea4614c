"""A good reading under attack: how soon it is stored while junk and history reads hammer the service.

The real service (``marine-watch serve`` settings, SQLite store, a subprocess) on a private
Mosquitto, its store seeded with a day of one-second tide readings at Zhapu. Two phases, one run:

* idle: good readings published one at a time, nothing else going on;
* hammered: 2,000 junk messages (not JSON, dead-lettered) published as fast as the broker takes
  them, while 4 clients read 24 h of Zhapu's history (10,000 rows an answer) in a loop, and good
  readings are published every 50 ms meanwhile.

"Stored" is the moment the reading's row is visible in the store's SQLite file, polled every 2 ms
from this process (a read-only connection), from the moment its PUBACK came back. The junk
publisher and the history clients run in a process of their own (``attack``), so that parsing
their answers and publishing the junk cannot hold up this process's event loop, which publishes
the good readings and watches for them. The history clients' rate limit is lifted
(``service_proc``) so that every read reaches the store: the figure is the store and the
dead-letter path under load, not the rate limiter turning them away. The target (issue #12):
under 0.5 s hammered, shown next to the idle figure of the same run.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiomqtt
import httpx

from benchmarks.bench_ingest import LIMITS
from benchmarks.service_proc import service
from marine_watch.store.sqlite import SqliteStore
from sensors.reading import Reading
from tests.services import start_mosquitto

ROOT = "marine/v1"
JUNK = 2_000
READERS = 4
GOOD = 20


async def seed(path: Path, now_s: float) -> None:
    """A day of one-second tide readings at Zhapu, ending a minute ago."""
    start = int(now_s) - 86_400 - 60
    async with SqliteStore(path) as store:
        for chunk in range(0, 86_400, 10_000):
            await store.write(
                [
                    Reading("zhapu", "tide_level", (start + i) * 10**9, 2.0 + 0.0001 * (i % 3000))
                    for i in range(chunk, min(chunk + 10_000, 86_400))
                ]
            )


async def good_reading(client: aiomqtt.Client, db: sqlite3.Connection, n: int) -> float:
    """Publish one good reading (a time of its own) and return seconds until it is stored."""
    ts_ms = int(time.time() * 1000) - 1000 + n  # distinct times, a second in the past
    body = json.dumps({"ts": ts_ms, "value": 2.5 + 0.001 * n, "unit": "m"})
    await client.publish(f"{ROOT}/zhapu/tide_level", body, qos=1)
    published = time.perf_counter()
    while True:
        row = db.execute(
            "SELECT 1 FROM reading WHERE station='zhapu' AND kind='tide_level' AND ts_ns=?",
            (ts_ms * 1_000_000,),
        ).fetchone()
        if row is not None:
            return time.perf_counter() - published
        await asyncio.sleep(0.002)


async def hammer_junk(host: str, port: int) -> float:
    """Publish the junk messages at QoS 1 as fast as the broker acknowledges; the seconds taken."""
    started = time.perf_counter()
    async with aiomqtt.Client(host, port, identifier="bench-junk") as client:
        for i in range(0, JUNK, 100):
            await asyncio.gather(
                *(
                    client.publish(f"{ROOT}/zhapu/tide_level", b"not json %d" % k, qos=1)
                    for k in range(i, i + 100)
                )
            )
    return time.perf_counter() - started


async def read_history(base: str, stop: asyncio.Event, counts: list[int]) -> None:
    """One client reading the last 24 h of Zhapu over and over."""
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as http:
        while not stop.is_set():
            answer = await http.get("/api/v1/stations/zhapu/readings")
            answer.raise_for_status()
            counts.append(len(answer.json()["points"]))


async def _attack(
    base: str, host: str, port: int, started: Any, stop: Any
) -> tuple[int, float, float]:
    stopping, counts = asyncio.Event(), [list[int]() for _ in range(READERS)]
    readers = [asyncio.create_task(read_history(base, stopping, c)) for c in counts]
    await asyncio.sleep(1.0)  # the readers are in full swing
    began = time.perf_counter()
    started.set()
    junk_s = await hammer_junk(host, port)
    while not stop.is_set():  # noqa: ASYNC110 (a multiprocessing event)
        await asyncio.sleep(0.01)
    reads_s = time.perf_counter() - began
    stopping.set()
    await asyncio.gather(*readers)
    return sum(len(c) for c in counts), reads_s, junk_s


def attack(base: str, host: str, port: int, started: Any, stop: Any, out: Any) -> None:
    """The attacker's process: 4 history readers, then the junk once they are in full swing;
    readers go on until ``stop``; puts (reads, seconds from the junk's start, junk seconds)."""
    out.put(asyncio.run(_attack(base, host, port, started, stop)))


async def measure(port: int, broker_host: str, broker_port: int, db_path: Path) -> list[dict]:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as http:
        while (await http.get("/health")).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)
    rows = []
    spawn = multiprocessing.get_context("spawn")
    started, stop, out = spawn.Event(), spawn.Event(), spawn.Queue()
    async with aiomqtt.Client(broker_host, broker_port, identifier="bench-good") as client:
        idle = [await good_reading(client, db, n) for n in range(GOOD)]
        rows.append(_row("idle", idle, None, None))
        attacker = spawn.Process(
            target=attack, args=(base, broker_host, broker_port, started, stop, out)
        )
        attacker.start()
        while not started.is_set():  # noqa: ASYNC110 (a multiprocessing event)
            await asyncio.sleep(0.01)
        hammered = []
        for n in range(GOOD):
            hammered.append(await good_reading(client, db, GOOD + n))
            await asyncio.sleep(0.05)
        stop.set()
        reads, reads_s, junk_s = await asyncio.to_thread(out.get)
        attacker.join()
        rows.append(_row("hammered", hammered, reads / reads_s, JUNK / junk_s))
    db.close()
    return rows


def _row(case: str, latencies: list[float], reads_per_s: float | None, junk_per_s: float | None):
    return {
        "case": case,
        "good readings": len(latencies),
        "stored after (median)": f"{statistics.median(latencies) * 1000:.0f} ms",
        "stored after (p90)": f"{statistics.quantiles(latencies, n=10)[-1] * 1000:.0f} ms",
        "stored after (max)": f"{max(latencies) * 1000:.0f} ms",
        "history reads/s (10,000 rows each)": "" if reads_per_s is None else f"{reads_per_s:.1f}",
        "junk messages/s": "" if junk_per_s is None else f"{junk_per_s:.0f}",
        "max_s": round(max(latencies), 4),
    }


def run() -> list[dict[str, object]]:
    tmp = Path(tempfile.mkdtemp(prefix="mw-bench-hostile-"))
    broker = start_mosquitto(tmp / "mosquitto", extra_conf=LIMITS)
    data = tmp / "data"
    db_path = data / "readings.sqlite3"
    try:
        asyncio.run(seed(db_path, time.time()))
        settings = {
            "mqtt_url": broker.url,
            "data_dir": str(data),
            "store": "sqlite",
            "batch_max_wait_s": 0.05,
            "risk_tick_s": 1.0,
        }
        with service(tune_gc=True, **settings) as port:  # as `marine-watch serve` runs
            return asyncio.run(measure(port, broker.host, broker.port, db_path))
    finally:
        broker.stop()


if __name__ == "__main__":
    for row in run():
        print(row)
