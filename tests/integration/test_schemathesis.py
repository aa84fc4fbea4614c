"""Schemathesis against the OpenAPI spec of a running service: no input makes it answer 5xx, and
every answer matches the schema its operation declares."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from marine_watch.auth.keys import hash_key
from tests.services import Broker, free_port, scaled

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "schemathesis-admin-key-0123456789"
pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(600)]


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + scaled(60)
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"service did not start: {log.read_text()[-3000:]}")


@pytest.mark.parametrize("key", [None, ADMIN_KEY], ids=["anonymous", "admin"])
def test_no_generated_request_gets_a_server_error(
    mosquitto: Broker, tmp_path: Path, key: str | None
) -> None:
    """Every operation, fuzzed from its schema, answers 2xx/4xx, never 5xx, and each answer
    conforms to its declared schema (as a visitor and as admin)."""
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or pytest.fail(
        "schemathesis missing: make test installs it"
    )
    port = free_port()
    env = {
        **os.environ,
        "MARINE_WATCH_CONFIG_DIR": str(ROOT / "config"),
        "MARINE_WATCH_DATA_DIR": str(tmp_path / "data"),
        "MARINE_WATCH_MQTT_URL": mosquitto.url,
        "MARINE_WATCH_MQTT_TOPIC_ROOT": f"t/{tmp_path.name}/marine/v1",
        "MARINE_WATCH_MQTT_CLIENT_ID": f"schemathesis-{tmp_path.name}",
        "MARINE_WATCH_STORE": "sqlite",
        "MARINE_WATCH_HTTP_PORT": str(port),
        "MARINE_WATCH_API_KEYS": json.dumps([f"fuzz:admin:{hash_key(ADMIN_KEY)}"]),
        "MARINE_WATCH_RISK_TOPICS": "false",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "marine_watch.cli", "serve"],
            env=env,
            stdout=err,
            stderr=err,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
        # Webhook registration is left out: a generated receiver URL could point off this machine.
        args = [st, "run", f"{url}/openapi.json", "--checks", "not_a_server_error,response_schema_conformance", "--max-examples", "15",
                "--seed", "2021", "--generation-deterministic", "--exclude-path-regex", "webhooks", "--request-timeout", "20"]  # fmt: skip
        if key:
            args += ["-H", f"X-API-Key: {key}"]
        run = subprocess.run(
            args, cwd=tmp_path, capture_output=True, text=True, timeout=scaled(500), check=False
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=scaled(30))
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "Traceback" not in log.read_text()
    cases = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert cases is not None, run.stdout[-3000:]
    assert int(cases.group(1)) == int(cases.group(2)) >= 500, run.stdout[-3000:]  # really exercised
