"""HTTP and websocket hardening, probed as an anonymous client on the same network would."""

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from marine_watch.auth.keys import KeyRing, hash_key
from marine_watch.errors import ConfigError
from marine_watch.settings import DEMO_KEYS, Settings
from marine_watch.store.sqlite import SqliteStore
from sensors.reading import Reading
from tests.helpers import present
from tests.integration.conftest import serve
from tests.services import CONFIG_DIR, Broker, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]
FORECASTER = "forecaster-key-of-the-limits-test"


def raw_request(port: int, head: str, body: bytes = b"", wait_s: float = 5.0) -> tuple[str, float]:
    """Send a request head (and part of a body) over a plain socket; the status line and how
    long the answer took. The socket is not closed first: the server must answer on its own."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        answer = sock.recv(4096).decode(errors="replace")
    return answer.split("\r\n", 1)[0], time.monotonic() - started


async def test_bodies_are_bounded_and_keys_checked_before_reading(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """A 150 MB Content-Length gets 413 at once, without a byte of it read; an anonymous POST
    with a body gets 401 without its body being read; a chunked body is cut off at the limit."""
    settings = make_settings(mosquitto, api_keys=(f"fc:forecaster:{hash_key(FORECASTER)}",))
    async with serve(settings) as app:
        port = int(app.http.rsplit(":", 1)[1])
        huge = "POST /api/v1/forecasts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        keyed = huge + f"X-API-Key: {FORECASTER}\r\n"
        status, took = await asyncio.to_thread(
            raw_request, port, keyed + "Content-Length: 150000000\r\n", b"{"
        )
        assert status.endswith("413 Request Entity Too Large") or " 413 " in status, status
        assert took < scaled(2)
        # anonymous, a small announced body never sent: answered 401 without waiting for it
        status, took = await asyncio.to_thread(
            raw_request, port, huge + "Content-Length: 100\r\n", b""
        )
        assert " 401 " in status, status
        assert took < scaled(2)

        chunked = keyed + "Transfer-Encoding: chunked\r\n"
        body = b"".join(b"4000\r\n" + b" " * 0x4000 + b"\r\n" for _ in range(20))  # 320 KiB
        status, _ = await asyncio.to_thread(raw_request, port, chunked, body)
        assert " 413 " in status, status
        public = "POST /api/v1/segments/zhapu-seawall/overtopping HTTP/1.1\r\nHost: x\r\n"
        status, _ = await asyncio.to_thread(
            raw_request, port, public + "Content-Length: 300000\r\n", b"{"
        )
        assert " 413 " in status, status


async def test_extreme_ranges_get_422_and_heavy_reads_are_costed(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """every=106752d and dates outside 1677-2262 are 422 (were 500); history reads count their
    rows against the caller's rate limit, so a client hammering history is slowed down."""
    settings = make_settings(mosquitto, rate_limit_per_s=1.0, rate_limit_burst=5)
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        url = "/api/v1/stations/zhapu/readings"
        for params in (
            {"every": "106752d"},
            {"every": "9" * 50 + "d"},
            {"from": "1500-01-01T00:00:00Z", "to": "1500-01-02T00:00:00Z"},
            {"to": "2300-01-01T00:00:00Z"},
        ):
            answer = await http.get(url, params=params)
            assert answer.status_code == 422, (params, answer.text)
        await asyncio.sleep(5)  # a full bucket again
        store = app.services.store
        base = int((time.time() - 3600) * 1e9)
        await store.write(
            [Reading("zhapu", "tide_level", base + i * 10**9, 1.0) for i in range(3000)]
        )
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
        heavy = await http.get(url, params={"from": since})
        assert heavy.status_code == 200
        assert len(heavy.json()["points"]) == 3000
        # 1 token for the request and 3 for its 3,000 rows: the bucket of 5 holds one more
        assert (await http.get("/api/v1/stations")).status_code == 200
        limited = await http.get("/api/v1/stations")
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        for route in ("/metrics", "/api/v1/stations/zhapu/tide", "/"):
            assert (await http.get(route)).status_code == 429, route
        assert (await http.get("/health")).status_code == 200  # a bucket of its own...
        for _ in range(5):
            await http.get("/health")
        assert (await http.get("/health")).status_code == 429  # ...with the same limit


async def test_forwarded_headers_are_believed_from_nobody_by_default(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """X-Forwarded-For from loopback used to pick the client's rate-limit bucket; by default no
    address is trusted, so a client cannot get a fresh bucket by naming another address."""
    settings = make_settings(mosquitto, rate_limit_per_s=0.1, rate_limit_burst=2)
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        for _ in range(2):
            assert (await http.get("/api/v1/zones")).status_code == 200
        forged = await http.get("/api/v1/zones", headers={"X-Forwarded-For": "203.0.113.9"})
        assert forged.status_code == 429


async def drain(ws: ClientConnection) -> None:
    """Read until the server closes the connection (ConnectionClosed)."""
    while True:
        await asyncio.wait_for(ws.recv(), scaled(5))


async def test_websockets_close_bad_frames_and_cap_connections(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """A binary frame closes with 1003, a 1 MiB message with 1009, neither with a traceback; a
    client's websockets beyond the cap are closed with 1013."""
    settings = make_settings(mosquitto, ws_max_per_client=3)
    async with serve(settings) as app:
        async with connect(f"{app.ws}/ws/risk") as ws:
            await ws.recv()
            await ws.send(b"\x00\x01binary")
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), scaled(5))
        assert present(closed.value.rcvd).code == 1003
        async with connect(f"{app.ws}/ws/risk", max_size=None) as ws:
            await ws.recv()
            await ws.send("x" * (1 << 20))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), scaled(5))
        assert present(closed.value.rcvd).code == 1009
        opened = [await connect(f"{app.ws}/ws/risk").__aenter__() for _ in range(3)]
        try:
            async with connect(f"{app.ws}/ws/risk") as extra:
                with pytest.raises(ConnectionClosed) as closed:
                    await drain(extra)
            assert present(closed.value.rcvd).code == 1013
        finally:
            for ws in opened:
                await ws.close()
        async with connect(f"{app.ws}/ws/risk") as again:  # the slots were given back
            await again.recv()
    assert not app.crashes


def test_demo_keys_are_refused_outside_the_demo(tmp_path: Path) -> None:
    """The demo key's hash in config/roles.toml stops a production start; the demo accepts it."""
    config = tmp_path / "config"
    config.mkdir()
    for item in CONFIG_DIR.iterdir():
        (config / item.name).symlink_to(item)
    digest = hash_key(DEMO_KEYS["admin"])
    (config / "roles.toml").write_text(
        f'[[users]]\nname = "ops"\nrole = "admin"\nkey_sha256 = "{digest}"\n'
    )
    with pytest.raises(ConfigError, match="demo key"):
        KeyRing(Settings(config_dir=config, data_dir=tmp_path / "data"))
    demo = KeyRing(Settings(config_dir=config, data_dir=tmp_path / "d2", environment="demo"))
    assert demo.lookup(DEMO_KEYS["admin"]) is not None


async def test_store_reads_never_wait_behind_the_writer_or_hold_it_up(tmp_path: Path) -> None:
    """SQLite: a write completes while a heavy history read is running (a reader of its own)."""
    async with SqliteStore(tmp_path / "r.sqlite3") as store:
        rows = [Reading("zhapu", "tide_level", i * 10**9, float(i % 97)) for i in range(300_000)]
        await store.write(rows)
        read = asyncio.create_task(store.query("zhapu", None, 0, 10**18, limit=300_000))
        await asyncio.sleep(0.01)  # the read has started on its thread
        await store.write([Reading("zhapu", "wave_height", 5, 1.0)])
        assert not read.done()  # the write did not wait for the read
        assert len(await read) == 300_000
