"""`marine-watch demo` (or `make demo`) as a user starts it: a process group of its own, free ports.

The demo runs in a new session, like a command in a terminal: a Ctrl-C is ``killpg(SIGINT)`` on
that group. Everything the demo started is found from its log (the broker's pid) and checked gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import ROOT
from tests.services import free_port, scaled


@dataclass
class Demo:
    proc: asyncio.subprocess.Process
    http: str
    broker_port: int
    log: Path
    accounts: Path  # the accounts.json the demo generates for its broker (stations' passwords)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def events(self) -> list[dict[str, Any]]:
        """The demo's JSON log lines (stderr is not a TTY, so structlog writes JSON)."""
        out = []
        for line in self.text().splitlines():
            with contextlib.suppress(ValueError):
                item = json.loads(line)
                if isinstance(item, dict):
                    out.append(item)
        return out

    def broker_pid(self) -> int | None:
        started = [e for e in self.events() if e.get("event") == "broker_started"]
        return started[0].get("pid") if started else None

    def signal_group(self, sig: signal.Signals) -> None:
        """What a terminal does on Ctrl-C: the signal to every process of the foreground group."""
        os.killpg(self.proc.pid, sig)

    async def stopped(self, within_s: float) -> int:
        await asyncio.wait_for(self.proc.wait(), scaled(within_s))
        assert self.proc.returncode is not None
        return self.proc.returncode


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


async def gone(pid: int, within_s: float) -> bool:
    async with asyncio.timeout(scaled(within_s)):
        while alive(pid):  # noqa: ASYNC110 - polling another process, no event to wait on
            await asyncio.sleep(0.1)
    return True


@asynccontextmanager
async def running_demo(
    tmp_path: Path, *args: str, make: bool = False, env: dict[str, str] | None = None
) -> AsyncIterator[Demo]:
    """Start the demo (``make demo`` when ``make``) and wait until its API answers."""
    port, broker_port = free_port(), free_port()
    own = ["--port", str(port), "--broker-port", str(broker_port), *args]
    environ = {
        **os.environ,
        "MARINE_WATCH_DATA_DIR": str(tmp_path / "data"),
        "MARINE_WATCH_CONFIG_DIR": str(ROOT / "config"),
        **(env or {}),
    }
    if make:  # the Makefile's recipe, with this interpreter's scripts and no reinstall
        bin_dir = Path(sys.executable).parent
        cmd = ["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", "demo"]
        cmd += [f"BIN={bin_dir}", f"DEMO_ARGS={' '.join(own)}"]
    else:
        cmd = [sys.executable, "-m", "marine_watch.cli", "demo", *own]
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=tmp_path, env=environ, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    accounts = Path(environ["MARINE_WATCH_DATA_DIR"]) / "demo" / "mosquitto" / "accounts.json"
    demo = Demo(proc, f"http://127.0.0.1:{port}", broker_port, log, accounts)
    try:
        async with httpx.AsyncClient(base_url=demo.http) as http, asyncio.timeout(scaled(60)):
            while True:
                assert proc.returncode is None, demo.text()[-3000:]
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/api/v1/stations")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
        yield demo
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        pid = demo.broker_pid()
        if pid is not None and alive(pid):  # a failed test must not leave our broker behind
            os.kill(pid, signal.SIGKILL)
