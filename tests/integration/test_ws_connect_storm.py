"""What a storm of websocket clients meets: the listen backlog, log lines per connection, the heap.

A node took 37-134 s to accept 10,000 websockets (BENCHMARKS.md, "Fan-out from API nodes"); the
settings and routes that came out of measuring it ("The connect storm, measured apart") are
checked on the real service.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from marine_watch.app import GC_YOUNG_THRESHOLD, create_app, server_options
from marine_watch.settings import Settings
from tests.helpers import serve
from tests.services import CONFIG_DIR, Broker, free_port, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]
REPO = Path(__file__).resolve().parents[2]
#: uvicorn's and the websockets library's INFO lines per websocket, as the JSON lines escape them
PER_CONNECTION = ('WebSocket /ws/risk\\" [accepted]', "connection open", "connection closed")


def listen_backlog(port: int) -> int:
    """The accept-queue length of the socket listening on ``port`` (``ss``: Send-Q of a LISTEN)."""
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[2])


def somaxconn() -> int:
    return int(Path("/proc/sys/net/core/somaxconn").read_text(encoding="ascii"))


async def test_listen_backlog_is_the_setting_capped_by_the_kernel(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """uvicorn's default backlog (2048) was the service's; now MARINE_WATCH_HTTP_BACKLOG, 16,384 by
    default, which the kernel caps at net.core.somaxconn."""
    assert Settings().http_backlog == 16_384
    async with serve(make_settings(mosquitto, http_backlog=100)) as app:
        assert listen_backlog(int(app.http.rsplit(":", 1)[1])) == 100
    async with serve(make_settings(mosquitto)) as app:
        assert listen_backlog(int(app.http.rsplit(":", 1)[1])) == min(16_384, somaxconn())


@contextlib.asynccontextmanager
async def served(broker: Broker, tmp_path: Path, **env: str) -> AsyncIterator[tuple[str, Path]]:
    """``marine-watch serve`` as a child process, its output in a file; yields (ws URL, log)."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    settings = {
        "CONFIG_DIR": str(CONFIG_DIR),
        "DATA_DIR": str(tmp_path / f"data-{port}"),
        "MQTT_URL": broker.url,
        "MQTT_CLIENT_ID": f"mw-test-storm-{port}",
        "MQTT_TOPIC_ROOT": f"test-storm-{port}/v1",
        "HTTP_PORT": str(port),
        **env,
    }
    environ = {**os.environ, **{f"MARINE_WATCH_{k}": v for k, v in settings.items()}}
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "marine_watch.cli",
            "serve",
            cwd=REPO,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        async with asyncio.timeout(scaled(30)), httpx.AsyncClient(timeout=2.0) as http:
            while True:
                assert proc.returncode is None, log.read_text(errors="replace")[-3000:]
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        yield f"ws://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), scaled(20))
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def storm(ws_url: str, n: int) -> None:
    """``n`` clients on /ws/risk at once; each reads its snapshot, then all leave."""
    opened = await asyncio.gather(*(connect(f"{ws_url}/ws/risk").__aenter__() for _ in range(n)))
    try:
        for ws in opened:
            assert json.loads(await asyncio.wait_for(ws.recv(), scaled(10)))["type"] == "snapshot"
    finally:
        await asyncio.gather(*(ws.close() for ws in opened))


async def drain(ws: ClientConnection) -> None:
    """Read until the server closes the connection (ConnectionClosed)."""
    while True:
        await asyncio.wait_for(ws.recv(), scaled(5))


def lines_with(log: Path, needle: str) -> int:
    return sum(needle in line for line in log.read_text(errors="replace").splitlines())


async def test_serve_logs_no_line_per_websocket_unless_asked(
    mosquitto: Broker, tmp_path: Path
) -> None:
    """By default 15 clients (under the cap of 20 per address) leave no "accepted" or "connection
    open" line (nor "connection closed", which the websockets library logs when it sees an EOF)
    while uvicorn's start-up lines stay; MARINE_WATCH_LOG_WS_CONNECTIONS=true brings them back."""
    async with served(mosquitto, tmp_path) as (ws_url, log):
        await storm(ws_url, 15)
        await asyncio.sleep(0.5)  # the server sees the closes
        assert lines_with(log, "Application startup complete") == 1
        assert [lines_with(log, needle) for needle in PER_CONNECTION] == [0, 0, 0]
    async with served(mosquitto, tmp_path, LOG_WS_CONNECTIONS="true") as (ws_url, log):
        await storm(ws_url, 15)
        async with asyncio.timeout(scaled(10)):
            while lines_with(log, PER_CONNECTION[1]) < 15:  # noqa: ASYNC110 - a file, no event
                await asyncio.sleep(0.1)
        assert [lines_with(log, needle) for needle in PER_CONNECTION[:2]] == [15, 15]


async def test_a_tuned_node_freezes_its_startup_heap_while_it_serves(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """``create_app(tune_gc=True)`` (serve, demo): once started, the start-up objects sit in the
    collector's permanent generation and young passes are rarer; websockets are served as before;
    at shutdown the frozen objects are handed back to the collector (nothing stays frozen)."""
    settings: Settings = make_settings(mosquitto)
    threshold = gc.get_threshold()
    app = create_app(settings, tune_gc=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", **server_options(settings)))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(scaled(20)):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await asyncio.sleep(0.02)
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
        await storm(f"ws://127.0.0.1:{port}", 5)
    finally:
        server.should_exit = True
        await task
        gc.set_threshold(*threshold)
    assert gc.get_freeze_count() == 0


async def test_ws_risk_is_matched_first_and_answers_as_the_documented_route(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """The Starlette route for /ws/risk comes before every router; with it removed, the FastAPI
    route gives the same snapshot (one evaluation apart at most) and the same per-client cap."""
    async with serve(make_settings(mosquitto, ws_max_per_client=2)) as app:
        routes = app.app.router.routes
        fast = next(r for r in routes if getattr(r, "path", None) == "/ws/risk")
        assert routes.index(fast) <= 1  # after the resident lookup's fast path at most
        assert isinstance(fast, WebSocketRoute)

        async def snapshots() -> tuple[dict[str, object], int]:
            async with connect(f"{app.ws}/ws/risk") as one, connect(f"{app.ws}/ws/risk") as two:
                first = json.loads(await one.recv())
                await two.recv()
                async with connect(f"{app.ws}/ws/risk") as three:
                    with pytest.raises(ConnectionClosed) as closed:
                        await drain(three)
                return first, closed.value.rcvd.code if closed.value.rcvd else 0

        for _ in range(5):
            ours, our_code = await snapshots()
            routes.remove(fast)
            try:
                theirs, their_code = await snapshots()
            finally:
                routes.insert(0, fast)
            if ours["ts"] == theirs["ts"]:
                break
        assert ours == theirs
        assert our_code == their_code == 1013
    assert not app.crashes
