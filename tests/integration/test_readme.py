"""The README's commands, run as written: against the demo, and "Run it for real" step by step.

The liberties: where the README names the well-known ports of a machine's own services (Mosquitto
1883 and 1884, InfluxDB 8086, the API 8000, the demo broker 1884), the test points the same command
at its own private instance on a free port, and `~` is a temporary home. `sudo apt-get` and
`systemctl` are the steps this replaces: the Debian packages are those `make system-deps` installs,
InfluxDB started privately (tests/services.py); the broker runs by the README's own command.
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
from tests.helpers import ROOT, present, readme_commands
from tests.services import find_binary, free_port, scaled, start_influxd, wait_for_port

pytestmark = [pytest.mark.services, pytest.mark.timeout(240)]
REAL = "with Mosquitto and InfluxDB from Debian packages"


def _env(**extra: str) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, **extra}


async def _bash(
    command: str, env: dict[str, str], within_s: float = 60
) -> tuple[int | None, str, str]:
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
        printed, _ = await client.communicate()
        assert '< {"type":"snapshot"' in printed.decode()


async def test_replay_into_the_demo_as_written(tmp_path: Path) -> None:
    """The README's replay line, as the demo prints it, reaches the demo's broker with Zhapu's
    station account; the 2018 storm is stored with its times. Without the account: refused."""
    replay = _one(readme_commands(), "marine-watch replay ")
    async with running_demo(tmp_path, "--speed", "60") as demo:
        command = replay.replace("127.0.0.1:1884", f"127.0.0.1:{demo.broker_port}").replace(
            "data/demo/mosquitto/accounts.json", str(demo.accounts)
        )
        assert command in demo.text()  # the line the demo prints
        anonymous = command.split(" --accounts ")[0]
        code, _, err = await _bash(anonymous, _env())
        assert code == 1
        assert "Not authorized" in err
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


def _env_after(exports: list[str], env: dict[str, str]) -> dict[str, str]:
    """The environment once bash has run the README's ``export`` lines (``~`` expanded)."""
    script = "\n".join([*exports, "env -0"])
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, check=True)
    pairs = (item.partition("=") for item in done.stdout.decode().split("\0") if item)
    return {name: value for name, _, value in pairs}


async def test_run_it_for_real_with_mosquitto_and_influxdb(tmp_path: Path) -> None:
    """The README's Debian section, step by step: broker accounts, the broker, the service with
    its account, a station publishing with its own; against private Mosquitto and InfluxDB."""
    steps = readme_commands(REAL)
    assert steps[0].startswith("sudo apt-get install -y ")
    for package, binary in (("mosquitto", "mosquitto"), ("mosquitto-clients", "mosquitto_pub"),
                            ("influxdb", "influxd"), ("curl", "curl"), ("jq", "jq")):  # fmt: skip
        assert package in steps[0].split()
        find_binary(binary, package)
    assert [s for s in steps if s.startswith("sudo ")] == [
        steps[0],
        "sudo systemctl disable --now mosquitto",  # the machine's own broker: left alone here
        "sudo systemctl restart influxdb",  # a private InfluxDB instead
    ]
    home = tmp_path / "home"
    home.mkdir()
    env = _env(HOME=str(home), MARINE_WATCH_DATA_DIR=str(tmp_path / "data"))
    influx = await asyncio.to_thread(start_influxd, tmp_path / "influx")
    field, service, http_port = free_port(), free_port(), free_port()
    ports = {
        "--port 1883": f"--port {field}",
        "-p 1883": f"-p {field}",
        "--service-port 1884": f"--service-port {service}",
        "127.0.0.1:1884": f"127.0.0.1:{service}",
        ":8086": f":{influx.http_port}",
        ":8000/": f":{http_port}/",
    }

    def local(command: str) -> str:
        for old, new in ports.items():
            command = command.replace(old, new)
        return command

    broker = serve = None
    try:
        code, out, err = await _bash(local(_one(steps, "marine-watch mqtt-accounts ")), env)
        assert code == 0, err
        folder = home / "marine-watch-broker"
        assert f"mosquitto -c {folder / 'mosquitto.conf'}" in out
        accounts = json.loads((folder / "accounts.json").read_text())
        assert (folder / "accounts.json").stat().st_mode & 0o777 == 0o600

        start_broker = _one(steps, "/usr/sbin/mosquitto -c ")
        assert start_broker.endswith(" &")  # a background job: %1
        broker = await asyncio.create_subprocess_exec(
            "bash", "-c", "exec " + local(start_broker.removesuffix(" &")), cwd=ROOT, env=env
        )
        for port in (field, service):
            await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 10.0)

        code, out, err = await _bash(_one(steps, "python -m marine_watch.auth "), env)
        assert code == 0, err
        key = present(re.search(r"not stored\): (\S+)", out)).group(1)
        entry = present(re.search(r'api_keys entry: "([^"]+)"', out)).group(1)
        exports = [local(s) for s in steps if s.startswith("export ")]
        env = _env_after([s.replace("ops:duty_officer:6ce2db…", entry) for s in exports], env)
        assert env["MARINE_WATCH_MQTT_PASSWORD_FILE"] == str(folder / "service.password")
        assert env["MARINE_WATCH_MQTT_USERNAME"] == accounts["service"]["username"]
        env["MARINE_WATCH_HTTP_PORT"] = str(http_port)
        env["MARINE_WATCH_INFLUX_DB"] = f"readme_{uuid.uuid4().hex[:8]}"  # this test's own database

        code, out, err = await _bash(_one(steps, "marine-watch check-config"), env)
        assert code == 0, err
        assert f"store: influxdb, broker: mqtt://127.0.0.1:{service}" in out

        assert _one(steps, "marine-watch serve") == "marine-watch serve &"  # job %2
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

        publish = local(_one(steps, "mosquitto_pub "))
        assert " -u station-zhapu -P " in publish
        anonymous = re.sub(r' -u \S+ -P "[^"]*"', "", publish)
        code, _, err = await _bash(anonymous, env)
        assert code != 0, "the broker took a reading from an anonymous client"
        assert "not authori" in err.lower()
        code, _, err = await _bash(publish, env)
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

        assert [s for s in steps if s.startswith("kill ")] == ["kill %2", "kill %1"]
        serve.send_signal(signal.SIGTERM)  # the service first
        code = await asyncio.wait_for(serve.wait(), scaled(30))
        assert code in (0, -signal.SIGTERM)
        assert "Traceback" not in (tmp_path / "serve.log").read_text()
        broker.send_signal(signal.SIGTERM)  # then the broker
        assert await asyncio.wait_for(broker.wait(), scaled(10)) == 0
    finally:
        for proc in (serve, broker):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
        await asyncio.to_thread(influx.stop)
