"""`marine-watch demo` starts everything embedded and pushes colour changes over /ws/risk."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.services import free_port, scaled

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]


async def _wait_for_stations(base: str, proc: asyncio.subprocess.Process, log: Path) -> list[dict]:
    async with httpx.AsyncClient(base_url=base) as http, asyncio.timeout(scaled(60)):
        while True:
            try:
                return (await http.get("/api/v1/stations")).json()
            except httpx.TransportError:
                assert proc.returncode is None, log.read_text()
                await asyncio.sleep(0.2)


async def test_demo_serves_stations_and_pushes_rising_colours(tmp_path: Path) -> None:
    """Within a time-compressed typhoon the coast turns from none to at least yellow, live."""
    port = free_port()
    env = {
        **os.environ,
        "MARINE_WATCH_DATA_DIR": str(tmp_path / "data"),
        "MARINE_WATCH_CONFIG_DIR": str(ROOT / "config"),
    }
    args = ["demo", "--port", str(port), "--speed", "1500", "--lead-hours", "3"]
    log = tmp_path / "demo.log"
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "marine_watch.cli", *args,
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    try:
        stations = await _wait_for_stations(f"http://127.0.0.1:{port}", proc, log)
        assert len(stations) >= 8
        seen: dict[str, int] = {}
        async with connect(f"ws://127.0.0.1:{port}/ws/risk") as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            async with asyncio.timeout(scaled(90)):
                while seen.get("pinghu", 0) < 2:
                    message = json.loads(await ws.recv())
                    if message.get("type") == "zone":
                        seen[message["id"]] = message["level"]
        assert any(k != "pinghu" and v >= 2 for k, v in seen.items())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), scaled(20))
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.returncode in (0, -signal.SIGINT), log.read_text()[-2000:]
