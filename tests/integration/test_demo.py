"""`marine-watch demo` starts everything embedded, pushes colour changes, and stops like a service.

Ctrl-C in a terminal is SIGINT to the whole foreground process group (the demo, and under `make demo`
make and the demo); a service manager sends SIGTERM to the main process; a crash or OOM kill is a
SIGKILL. In each case nothing the demo started may stay behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.demo import alive, gone, running_demo
from tests.helpers import ROOT
from tests.services import scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]


async def test_demo_serves_stations_and_pushes_rising_colours(tmp_path: Path) -> None:
    """Within a time-compressed typhoon the coast turns from none to at least yellow, live."""
    async with running_demo(tmp_path, "--speed", "1500") as demo:
        async with httpx.AsyncClient(base_url=demo.http) as http:
            assert len((await http.get("/api/v1/stations")).json()) >= 8
        seen: dict[str, int] = {}
        async with connect(demo.http.replace("http", "ws") + "/ws/risk") as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            async with asyncio.timeout(scaled(90)):
                while seen.get("pinghu", 0) < 2:
                    message = json.loads(await ws.recv())
                    if message.get("type") == "zone":
                        seen[message["id"]] = message["level"]
        assert any(k != "pinghu" and v >= 2 for k, v in seen.items())
        demo.signal_group(signal.SIGINT)
        assert await demo.stopped(20) == 0, demo.text()[-2000:]


async def test_ctrl_c_stops_the_demo_cleanly(tmp_path: Path) -> None:
    """SIGINT to the demo's process group: exit 0, no traceback, the broker stopped and reaped."""
    async with running_demo(tmp_path, "--speed", "600") as demo:
        broker = demo.broker_pid()
        assert broker is not None
        assert alive(broker)
        await asyncio.sleep(2)  # readings flowing, colours evaluated
        demo.signal_group(signal.SIGINT)
        assert await demo.stopped(20) == 0, demo.text()[-3000:]
        assert "Traceback" not in demo.text()
        assert not alive(broker)
        events = [e["event"] for e in demo.events()]
        assert events.index("service_stopped") < events.index("broker_stopped")  # broker last


async def test_ctrl_c_on_make_demo_stops_cleanly(tmp_path: Path) -> None:
    """`make demo` and Ctrl-C: no traceback, no make error, nothing left running.

    make itself always ends by re-raising SIGINT after its recipe has finished (GNU make does so
    whatever the recipe's status), so its own status is "killed by SIGINT"; "Error" in make's
    output would mean the demo had failed.
    """
    async with running_demo(tmp_path, "--speed", "600", make=True) as demo:
        broker = demo.broker_pid()
        assert broker is not None
        demo.signal_group(signal.SIGINT)
        code = await demo.stopped(20)
        text = demo.text()
        assert code in (0, -signal.SIGINT), text[-3000:]
        assert "Traceback" not in text
        assert "make: ***" not in text, text[-1000:]
        assert [e["event"] for e in demo.events()][-1] == "demo_stopped"
        assert not alive(broker)


async def test_sigterm_stops_the_demo_and_its_broker_within_20_s(tmp_path: Path) -> None:
    """SIGTERM to the demo alone (as systemd or `kill` sends it): exit 0 within 20 s, no child left."""
    async with (
        running_demo(tmp_path, "--speed", "600") as demo,
        connect(demo.http.replace("http", "ws") + "/ws/risk") as ws,  # an open client too
    ):
        await ws.recv()
        broker = demo.broker_pid()
        assert broker is not None
        demo.proc.send_signal(signal.SIGTERM)
        assert await demo.stopped(20) == 0, demo.text()[-3000:]
        assert "Traceback" not in demo.text()
        assert not alive(broker)


async def test_sigkill_of_the_demo_takes_its_broker_along(tmp_path: Path) -> None:
    """The demo killed outright (SIGKILL): the kernel's parent-death signal stops its Mosquitto."""
    async with running_demo(tmp_path, "--speed", "600") as demo:
        broker = demo.broker_pid()
        assert broker is not None
        assert alive(broker)
        demo.proc.send_signal(signal.SIGKILL)
        assert await demo.stopped(10) == -signal.SIGKILL
        assert await gone(broker, 10)


async def test_a_taken_broker_port_is_a_clear_error(tmp_path: Path) -> None:
    """Two demos on one broker port: the second says which port and how to choose another."""
    async with running_demo(tmp_path / "one", "--speed", "600") as first:
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "marine_watch.cli", "demo", "--broker-port", str(first.broker_port),
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "MARINE_WATCH_DATA_DIR": str(tmp_path / "two")},
        )  # fmt: skip
        _, err = await asyncio.wait_for(second.communicate(), scaled(30))
        assert second.returncode == 2
        assert f"port {first.broker_port} is taken" in err.decode()


async def test_a_replay_takes_a_station_over_from_the_simulator(tmp_path: Path) -> None:
    """A station account is one connection at a time: a paced replay as Zhapu's account takes the
    account over from the demo's simulator, which leaves Zhapu to it (the replay is not cut off)
    while every other station goes on reporting."""
    record = tmp_path / "zhapu.csv"
    rows = [f"2018-01-02T{h:02d}:{m:02d}:00Z,3.{h:02d}" for h in range(5) for m in (0, 20, 40)]
    record.write_text("time,value\n" + "\n".join(rows) + "\n")
    async with running_demo(tmp_path / "demo", "--speed", "600") as demo:
        replay = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "marine_watch.cli", "replay", str(record), "--station", "zhapu",
            "--speed", "2400", "--broker", f"mqtt://127.0.0.1:{demo.broker_port}",
            "--accounts", str(demo.accounts),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(replay.communicate(), scaled(60))  # 15 rows, 0.5 s apart
        assert replay.returncode == 0, err.decode()[-2000:]
        assert "replayed 15 readings" in out.decode()
        async with httpx.AsyncClient(base_url=demo.http) as http:
            before = {s["id"]: s["last"] for s in (await http.get("/api/v1/stations")).json()}
            await asyncio.sleep(2)  # 20 scenario minutes
            after = {s["id"]: s["last"] for s in (await http.get("/api/v1/stations")).json()}
        assert after["zhapu"]["wind_speed"] == before["zhapu"]["wind_speed"]  # left to the replay
        assert after["mast-zhapu"]["wind_speed"]["ts"] > before["mast-zhapu"]["wind_speed"]["ts"]

        def left() -> list[str]:
            events = demo.events()
            return [e["station"] for e in events if e.get("event") == "simulator_left_station"]

        async with asyncio.timeout(scaled(20)):  # a publish cut off in flight fails after 10 s
            while not left():  # noqa: ASYNC110 - polling the demo's log
                await asyncio.sleep(0.2)
        assert left() == ["zhapu"]
        assert "simulator_disconnected" not in [e.get("event") for e in demo.events()]
