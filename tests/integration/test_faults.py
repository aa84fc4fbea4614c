"""Nothing is lost and nothing is doubled when the broker, the store or marine_watch itself fails.

Every test publishes readings with distinct times at QoS 1 (the publisher retries what the broker
did not acknowledge), breaks something mid-stream, and then checks that InfluxDB holds each reading
exactly once. The brokers run with the queue limits of the shipped config/mosquitto.conf.
"""

import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import httpx
import pytest

from marine_watch.settings import Settings
from tests.helpers import Running, serve
from tests.services import CONFIG_DIR, Broker, Influx, free_port, scaled, start_mosquitto

pytestmark = [pytest.mark.services, pytest.mark.timeout(240)]

REPO = CONFIG_DIR.parent
LIMIT_KEYS = ("max_queued_messages", "max_queued_bytes", "max_inflight_messages")
SHIPPED_LIMITS = "\n".join(
    line
    for line in (CONFIG_DIR / "mosquitto.conf").read_text(encoding="utf-8").splitlines()
    if line.startswith(LIMIT_KEYS)
)
START_MS = int((time.time() - 6 * 3600) * 1000)  # hours ago: every reading is in the past


def readings(topic_root: str, n: int, *, per_message: int = 1) -> list[tuple[str, bytes]]:
    """``n`` tide readings at Zhapu, one second apart, smooth (no QC flag), ``per_message`` a message."""
    items = [
        {"ts": START_MS + 1000 * i, "value": round(1.0 + 0.001 * (i % 500), 3), "unit": "m"}
        for i in range(n)
    ]
    if per_message == 1:
        return [(f"{topic_root}/zhapu/tide_level", json.dumps(item).encode()) for item in items]
    return [
        (
            f"{topic_root}/zhapu/batch",
            json.dumps(
                [{**it, "kind": "tide_level"} for it in items[i : i + per_message]]
            ).encode(),
        )
        for i in range(0, n, per_message)
    ]


async def publish(
    broker: Broker,
    messages: list[tuple[str, bytes]],
    *,
    after: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Publish at QoS 1, each once the previous one was acknowledged; retry through broker outages."""
    sent = 0
    async with asyncio.timeout(scaled(120)):
        while sent < len(messages):
            with contextlib.suppress(aiomqtt.MqttError):
                async with aiomqtt.Client(broker.host, broker.port, timeout=5) as client:
                    while sent < len(messages):
                        topic, payload = messages[sent]
                        await client.publish(topic, payload, qos=1, timeout=5)
                        sent += 1
                        if after is not None:
                            await after(sent)
            await asyncio.sleep(0.1)  # broker gone: wait a little before connecting again


async def stored_times(influx: Influx, db: str) -> list[int]:
    """Times (ns) of every reading point in ``db``, one entry per point, whatever its tags."""
    q = 'SELECT "value", "qc" FROM "reading"'
    async with httpx.AsyncClient(base_url=influx.url, timeout=10.0) as http:
        answer = (await http.get("/query", params={"db": db, "q": q, "epoch": "ns"})).json()
    series = answer["results"][0].get("series", [])
    return [row[0] for s in series for row in s["values"]]


async def wait_stored(influx: Influx, db: str, n: int, within_s: float) -> list[int]:
    """Poll until ``n`` points are stored (or time is up), and return their times."""
    deadline = time.monotonic() + scaled(within_s)
    while True:
        with contextlib.suppress(httpx.TransportError):
            times = await stored_times(influx, db)
            if len(times) >= n or time.monotonic() > deadline:
                return times
        if time.monotonic() > deadline:
            return []
        await asyncio.sleep(0.2)


async def until(condition: Callable[[], bool], within_s: float) -> None:
    """Poll a state that has no event to wait on (a spool count, a log file) until it holds."""
    await until_async(lambda: _now(condition()), within_s)


async def _now(value: bool) -> bool:
    return value


async def until_async(condition: Callable[[], Awaitable[bool]], within_s: float) -> None:
    """Poll an awaitable condition (an HTTP answer) until it holds, within a scaled timeout."""
    async with asyncio.timeout(scaled(within_s)):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.1)


def expected_times(n: int) -> list[int]:
    return [(START_MS + 1000 * i) * 1_000_000 for i in range(n)]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A persistent Mosquitto of this test alone, with the shipped queue limits."""
    started = start_mosquitto(tmp_path / "broker", extra_conf=SHIPPED_LIMITS, persistence=True)
    yield started
    started.stop()


@pytest.mark.parametrize("graceful", [True, False], ids=["sigterm", "sigkill"])
async def test_broker_restart_mid_stream_loses_and_doubles_nothing(
    broker: Broker,
    influxd: Influx,
    influx_db: str,
    make_settings: Callable[..., Settings],
    graceful: bool,
) -> None:
    """Mosquitto stopped (or killed) and restarted while 1,500 readings stream in: each stored once.

    A killed broker forgets what it queued since its last autosave; marine_watch keeps up here, so
    that queue is empty and the publisher resends what the broker had not acknowledged.
    """
    n = 1_500
    settings = make_settings(broker, influx=influxd, influx_db=influx_db)
    restarted: list[asyncio.Task[None]] = []

    async def restart_halfway(sent: int) -> None:
        if sent == n // 2:
            # The claim holds for what the broker has handed over: wait until it has (on a busy
            # machine the service can lag), so the kill finds an empty broker queue.
            await wait_stored(influxd, influx_db, n // 2, within_s=30)
            ingest = running[0].services.ingest
            before = ingest.sessions
            restart = asyncio.create_task(asyncio.to_thread(broker.restart, graceful=graceful))
            if not graceful:
                # A killed Mosquitto forgets what it had not autosaved (docs/DELIVERY.md, Limits):
                # what it queued, and the service's session with its subscriptions. The station
                # pauses until the service has subscribed again on the restarted broker.
                await restart
                async with asyncio.timeout(scaled(30)):
                    while ingest.sessions == before:  # noqa: ASYNC110 - a counter, no event
                        await asyncio.sleep(0.02)
            restarted.append(restart)

    running: list[Running] = []
    async with serve(settings) as app:
        running.append(app)
        await publish(broker, readings(settings.mqtt_topic_root, n), after=restart_halfway)
        await restarted[0]
        times = await wait_stored(influxd, influx_db, n, within_s=30)
        assert app.services.spool.pending == 0
    assert sorted(times) == expected_times(n)


async def test_store_outage_spools_and_replays_everything_once(
    broker: Broker, private_influxd: Influx, make_settings: Callable[..., Settings]
) -> None:
    """InfluxDB stopped mid-stream: readings go to the spool, then all reach InfluxDB once; spool empty."""
    n, db = 1_200, "faults"
    async with httpx.AsyncClient(base_url=private_influxd.url) as http:
        (await http.post("/query", params={"q": f'CREATE DATABASE "{db}"'})).raise_for_status()
    settings = make_settings(broker, influx=private_influxd, influx_db=db)
    messages = readings(settings.mqtt_topic_root, n)
    async with serve(settings) as app:
        await publish(broker, messages[: n // 3])
        assert len(await wait_stored(private_influxd, db, n // 3, within_s=20)) == n // 3
        await asyncio.to_thread(private_influxd.stop)
        await publish(broker, messages[n // 3 :])
        await until(lambda: app.services.spool.pending > 0, within_s=20)
        await asyncio.to_thread(private_influxd.start)
        times = await wait_stored(private_influxd, db, n, within_s=30)
        await until(lambda: app.services.spool.pending == 0, within_s=10)
    assert sorted(times) == expected_times(n)


def _copy(proc: subprocess.Popen[bytes], log: Path) -> None:
    assert proc.stdout is not None
    with proc.stdout, log.open("ab") as out:
        for line in proc.stdout:
            out.write(line)
            out.flush()


@dataclass
class Service:
    """``marine-watch serve`` as a child process of this test, so that it can be SIGKILLed."""

    env: dict[str, str]
    log: Path
    http: str
    proc: subprocess.Popen[bytes] | None = None
    copier: threading.Thread | None = None

    def start(self) -> None:
        # Its output goes through a pipe that this process copies to the log file, so that a file
        # size limit put on the child (the spool test) does not silence its logs.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "marine_watch.cli", "serve"],
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.copier = threading.Thread(target=_copy, args=(self.proc, self.log), daemon=True)
        self.copier.start()

    async def ready(self) -> None:
        """Wait until it answers /health with the broker connected."""
        async with asyncio.timeout(scaled(30)), httpx.AsyncClient(timeout=2.0) as http:
            while True:
                assert self.proc is not None
                assert self.proc.poll() is None, self.log.read_text()[-3000:]
                with contextlib.suppress(httpx.TransportError):
                    body = (await http.get(f"{self.http}/health")).json()
                    if body["mqtt"] == "connected":
                        return
                await asyncio.sleep(0.1)

    async def logged(self, event: str) -> None:
        await until(lambda: f'"event": "{event}"' in self.log.read_text(errors="replace"), 30)

    async def spooled(self) -> int:
        async with httpx.AsyncClient(timeout=2.0) as http:
            return int((await http.get(f"{self.http}/health")).json()["spool_pending_batches"])

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self._join()

    def _join(self) -> None:
        if self.copier is not None:
            self.copier.join(scaled(10))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(scaled(20))
            except subprocess.TimeoutExpired:
                self.kill()
        self._join()


@pytest.fixture
def service(
    tmp_path: Path, topic_root: str, mqtt_client_id: str
) -> Iterator[Callable[..., Service]]:
    """A factory of ``Service`` processes of this test; every one is stopped at the end."""
    made: list[Service] = []

    def make(broker: Broker, influx: Influx, db: str) -> Service:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MARINE_WATCH_")}
        env.update(
            MARINE_WATCH_CONFIG_DIR=str(CONFIG_DIR),
            MARINE_WATCH_DATA_DIR=str(tmp_path / "data"),
            MARINE_WATCH_MQTT_URL=broker.url,
            MARINE_WATCH_MQTT_TOPIC_ROOT=topic_root,
            MARINE_WATCH_MQTT_CLIENT_ID=mqtt_client_id,
            MARINE_WATCH_STORE="influxdb",
            MARINE_WATCH_INFLUX_URL=influx.url,
            MARINE_WATCH_INFLUX_DB=db,
            MARINE_WATCH_HTTP_PORT=str(port),
            MARINE_WATCH_BATCH_MAX_WAIT_S="0.05",
        )
        made.append(Service(env, tmp_path / "service.log", f"http://127.0.0.1:{port}"))
        return made[-1]

    yield make
    for svc in made:
        svc.stop()


async def test_sigkill_mid_stream_loses_and_doubles_nothing(
    broker: Broker,
    influxd: Influx,
    influx_db: str,
    service: Callable[..., Service],
    topic_root: str,
) -> None:
    """marine_watch SIGKILLed while 2,000 readings stream in, then restarted: each stored once."""
    n = 2_000
    first = service(broker, influxd, influx_db)
    first.start()
    await first.ready()

    async def kill_when_some_stored(sent: int) -> None:
        if sent == n // 2:
            first.kill()

    await publish(broker, readings(topic_root, n), after=kill_when_some_stored)
    second = service(broker, influxd, influx_db)
    second.start()
    await second.ready()
    times = await wait_stored(influxd, influx_db, n, within_s=30)
    assert sorted(times) == expected_times(n)


async def test_unwritable_spool_leaves_readings_unacknowledged_at_the_broker(
    broker: Broker, private_influxd: Influx, service: Callable[..., Service], topic_root: str
) -> None:
    """Store down and spool refused by the disk: an error is logged and nothing is acked; all stored later."""
    n, db = 600, "faults"
    async with httpx.AsyncClient(base_url=private_influxd.url) as http:
        (await http.post("/query", params={"q": f'CREATE DATABASE "{db}"'})).raise_for_status()
    messages = readings(topic_root, n)
    first = service(broker, private_influxd, db)
    first.start()
    await first.ready()
    await publish(broker, messages[:100])
    assert len(await wait_stored(private_influxd, db, 100, within_s=20)) == 100
    assert first.proc is not None
    # The disk refuses to grow any file of the service (EFBIG, as a full disk gives ENOSPC).
    resource.prlimit(first.proc.pid, resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
    await asyncio.to_thread(private_influxd.stop)
    await publish(broker, messages[100:])
    await first.logged("spool_write_failed")
    first.kill()  # whatever it had received was not acknowledged, so the broker still holds it

    second = service(broker, private_influxd, db)  # same data dir, now writable
    second.start()
    await second.ready()

    async def some_spooled() -> bool:  # the redelivered readings are now on disk
        return await second.spooled() > 0

    await until_async(some_spooled, within_s=20)
    await asyncio.to_thread(private_influxd.start)
    times = await wait_stored(private_influxd, db, n, within_s=30)
    assert sorted(times) == expected_times(n)

    async def spool_empty() -> bool:
        return await second.spooled() == 0

    await until_async(spool_empty, within_s=10)


async def test_a_backlog_beyond_mosquittos_default_queue_is_kept(
    broker: Broker, influxd: Influx, influx_db: str, make_settings: Callable[..., Settings]
) -> None:
    """20,000 readings (2,000 messages, twice Mosquitto's default queue) sent while marine_watch is away: all stored."""
    n = 20_000
    settings = make_settings(broker, influx=influxd, influx_db=influx_db)
    async with serve(settings):
        pass  # creates the persistent session, then goes away
    await publish(broker, readings(settings.mqtt_topic_root, n, per_message=10))
    async with serve(settings):
        times = await wait_stored(influxd, influx_db, n, within_s=60)
    assert sorted(times) == expected_times(n)
