"""The README's commands, run as written: against the demo, and "Run it for real" step by step.

The one liberty: where the README names the well-known ports of a machine's own services (Mosquitto
1883, InfluxDB 8086, the API 8000, the demo broker 1884), the test points the same command at its own
private instance on a free port. `sudo apt-get` and `systemctl` are the steps this replaces: the
Debian packages are those `make system-deps` installs, started privately (tests/services.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.demo import running_demo
from tests.helpers import ROOT, readme_commands
from tests.services import Broker, find_binary, free_port, scaled, start_influxd, wait_for_port

pytestmark = [pytest.mark.services, pytest.mark.timeout(240)]
REAL = "with Mosquitto and InfluxDB from Debian packages"


def _env(**extra: str) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, **extra}


async def _bash(command: str, env: dict[str, str], within_s: float = 60):
    """Run one README line in bash from the repository root: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", command, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), scaled(within_s))
    return proc.returncode, out.decode(), err.decode()


def _one(commands: list[str], prefix: str) -> str:
    found = [c for c in commands if c.startswith(prefix)]
    assert len(found) == 1, (prefix, commands)
    return found[0]


async def test_the_demo_answers_the_readme_commands(tmp_path: Path) -> None:
    """`curl .../api/v1/risk?lat&lon` and `python -m websockets .../ws/risk` as the README shows."""
    commands = readme_commands()
    curl = _one(commands, "curl -s 'http://127.0.0.1:8000/api/v1/risk?")
    ws = _one(commands, "python -m websockets ")
    async with running_demo(tmp_path, "--speed", "600") as demo:
        port = demo.http.rsplit(":", 1)[1]
        code, out, err = await _bash(curl.replace(":8000/", f":{port}/"), _env())
        assert code == 0, err
        answer = json.loads(out)
        assert answer["zone"]["id"] == "zhapu-harbour"
        assert {"colour", "explanation", "chain", "shelters", "contact", "evaluated_s"} <= set(
            answer
        )
        client = await asyncio.create_subprocess_exec(
            *shlex.split(ws.replace(":8000/", f":{port}/")), env=_env(),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        await asyncio.sleep(scaled(4))
        client.terminate()
        out, _ = await client.communicate()
        assert '< {"type":"snapshot"' in out.decode()


async def test_replay_into_the_demo_as_written(tmp_path: Path) -> None:
    """The README's replay line reaches the demo's broker; the 2018 storm is stored with its times."""
    replay = _one(readme_commands(), "MARINE_WATCH_MQTT_URL=mqtt://127.0.0.1:1884 ")
    async with running_demo(tmp_path, "--speed", "60") as demo:
        assert f"MARINE_WATCH_MQTT_URL=mqtt://127.0.0.1:{demo.broker_port}" in demo.text()
        command = replay.replace("127.0.0.1:1884", f"127.0.0.1:{demo.broker_port}")
        code, out, err = await _bash(command, _env(), within_s=120)
        assert code == 0, err
        assert "replayed 12752 readings to marine/v1/zhapu/batch" in out
        window = {
            "from": "2018-01-02T00:00:00Z",
            "to": "2018-01-05T00:00:00Z",
            "kind": "tide_level",
        }
        async with httpx.AsyncClient(base_url=demo.http) as http, asyncio.timeout(scaled(30)):
            while True:
                body = (await http.get("/api/v1/stations/zhapu/readings", params=window)).json()
                values = [p["value"] for p in body["points"]]
                if len(values) >= 3 * 144 - 2:
                    break
                await asyncio.sleep(0.3)
        assert max(values) == pytest.approx(3.60)  # 3 Jan 2018, 13:30 UTC (reference/README.md)


def _debian_like_broker(tmp_path: Path, grep: str, env: dict[str, str]) -> Broker:
    """Debian's mosquitto.conf (local-only listener, persistence, include_dir conf.d) on a free
    port, with the README's conf.d file written by its own grep command."""
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir(parents=True)
    command = grep.replace("sudo tee /etc/mosquitto/conf.d/", f"tee {conf_d}/")
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    written = (conf_d / "marine-watch.conf").read_text()
    assert "max_queued_messages 1000000" in written
    port = free_port()
    base = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",  # Debian's default: local-only, anonymous on loopback
        "persistence true",
        f"persistence_location {tmp_path}/",
        f"log_dest file {tmp_path / 'mosquitto.log'}",
        f"include_dir {conf_d}",
    ]
    if os.geteuid() == 0:
        base.append("user root")  # else it drops to user "mosquitto", who cannot write tmp_path
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("\n".join(base) + "\n")
    broker = Broker(
        "127.0.0.1", port, conf, tmp_path / "mosquitto.out", find_binary("mosquitto", "mosquitto")
    )
    broker.start()
    return broker


async def test_run_it_for_real_with_mosquitto_and_influxdb(tmp_path: Path) -> None:
    """The README's Debian section, step by step, against private Mosquitto and InfluxDB."""
    steps = readme_commands(REAL)
    assert steps[0].startswith("sudo apt-get install -y ")
    for package, binary in (("mosquitto", "mosquitto"), ("mosquitto-clients", "mosquitto_pub"),
                            ("influxdb", "influxd"), ("curl", "curl")):  # fmt: skip
        assert package in steps[0].split()
        find_binary(binary, package)
    env = _env(MARINE_WATCH_DATA_DIR=str(tmp_path / "data"))
    broker = await asyncio.to_thread(
        _debian_like_broker, tmp_path / "mqtt", _one(steps, "grep -E "), env
    )
    influx = await asyncio.to_thread(start_influxd, tmp_path / "influx")
    http_port = free_port()
    ports = {
        ":1883": f":{broker.port}",
        ":8086": f":{influx.http_port}",
        ":8000/": f":{http_port}/",
    }

    def local(command: str) -> str:
        for old, new in ports.items():
            command = command.replace(old, new)
        return command.replace(
            "mosquitto_pub -h 127.0.0.1", f"mosquitto_pub -h 127.0.0.1 -p {broker.port}"
        )

    serve = None
    try:
        code, out, err = await _bash(_one(steps, "python -m marine_watch.auth "), env)
        assert code == 0, err
        key = re.search(r"not stored\): (\S+)", out).group(1)  # type: ignore[union-attr]
        entry = re.search(r'api_keys entry: "([^"]+)"', out).group(1)  # type: ignore[union-attr]
        for line in (s for s in steps if s.startswith("export ")):
            for pair in shlex.split(local(line), comments=True)[1:]:
                name, _, value = pair.partition("=")
                env[name] = value.replace("ops:duty_officer:6ce2db…", entry)
        env["MARINE_WATCH_HTTP_PORT"] = str(http_port)
        env["MARINE_WATCH_INFLUX_DB"] = f"readme_{uuid.uuid4().hex[:8]}"  # this test's own database

        code, out, err = await _bash(_one(steps, "marine-watch check-config"), env)
        assert code == 0, err
        assert f"store: influxdb, broker: mqtt://127.0.0.1:{broker.port}" in out

        assert _one(steps, "marine-watch serve") == "marine-watch serve &"
        with (tmp_path / "serve.log").open("wb") as log:
            serve = await asyncio.create_subprocess_exec(
                "marine-watch", "serve", env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        await asyncio.to_thread(wait_for_port, "127.0.0.1", http_port, 30.0)
        async with asyncio.timeout(scaled(30)):
            while True:
                code, out, _ = await _bash(
                    local(_one(steps, "curl -s http://127.0.0.1:8000/health")), env
                )
                if code == 0 and out and json.loads(out)["status"] == "ok":
                    break
                await asyncio.sleep(0.3)

        code, _, err = await _bash(local(_one(steps, "mosquitto_pub ")), env)
        assert code == 0, err
        readings = local(
            _one(steps, "curl -s 'http://127.0.0.1:8000/api/v1/stations/zhapu/readings?")
        )
        async with asyncio.timeout(scaled(20)):
            while True:
                code, out, _ = await _bash(readings, env)
                if code == 0 and "4.12" in out:
                    break
                await asyncio.sleep(0.3)
        query = {"db": env["MARINE_WATCH_INFLUX_DB"], "q": "SELECT value, qc FROM reading"}
        async with httpx.AsyncClient() as http:
            stored = (await http.get(f"{influx.url}/query", params=query)).json()
            duty = await http.get(
                f"http://127.0.0.1:{http_port}/api/v1/dead-letters", headers={"X-API-Key": key}
            )
        assert stored["results"][0]["series"][0]["values"][0][1:] == [4.12, "ok"]
        assert duty.status_code == 200  # the key made in the README's step is accepted

        assert _one(steps, "kill ") == "kill %1"  # SIGTERM to the background job
        serve.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(serve.wait(), scaled(30))
        assert code in (0, -signal.SIGTERM)
        assert "Traceback" not in (tmp_path / "serve.log").read_text()
    finally:
        if serve is not None and serve.returncode is None:
            serve.kill()
            await serve.wait()
        await asyncio.to_thread(broker.stop)
        await asyncio.to_thread(influx.stop)
