"""Run the real service in its own process for benchmarks (uvicorn, 1 worker, uvloop + httptools)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = """
import json, resource, sys, uvicorn
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one fd per websocket client
from marine_watch.app import create_app
from marine_watch.settings import Settings
settings = Settings(**json.loads(sys.argv[1]))
app = create_app(settings, tune_gc=sys.argv[2] == "tune_gc")
uvicorn.run(app, host="127.0.0.1", port=settings.http_port, loop="uvloop", http="httptools",
            access_log=False, log_level="warning", ws_per_message_deflate=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    msg = f"nothing listens on 127.0.0.1:{port}"
    raise RuntimeError(msg)


def bench_config(hold_time_s: float | None = None) -> Path:
    """A copy of config/ (optionally with another hold time) in a temp dir."""
    target = Path(tempfile.mkdtemp(prefix="mw-bench-config-"))
    shutil.copytree(ROOT / "config", target, dirs_exist_ok=True)
    if hold_time_s is not None:
        path = target / "thresholds.toml"
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("hold_time_s = 1800", f"hold_time_s = {hold_time_s:g}"), encoding="utf-8"
        )
    return target


def stop(proc: subprocess.Popen[bytes], data: str, timeout_s: float) -> None:
    """SIGTERM a service process (SIGKILL after ``timeout_s``), then remove its data folder."""
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(data, ignore_errors=True)


@contextmanager
def service(*, tune_gc: bool = False, **settings: object) -> Iterator[int]:
    """Start the service with these settings on a free port; yield the port; stop it.

    ``tune_gc``: the garbage collector set as ``marine-watch serve`` sets it (``create_app``)."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="mw-bench-data-")
    values = {
        "config_dir": str(ROOT / "config"),
        "data_dir": data,
        "http_port": port,
        "rate_limit_per_s": 1e9,
        "rate_limit_burst": 1_000_000_000,
        "ws_max_per_client": 1_000_000,  # every fan-out client comes from 127.0.0.1
        "mqtt_client_id": f"mw-bench-{port}",
        **settings,
    }
    env = {**os.environ, "MARINE_WATCH_CONFIG_DIR": str(values["config_dir"])}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, json.dumps(values), "tune_gc" if tune_gc else "-"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        yield port
    finally:
        stop(proc, data, timeout_s=10)
