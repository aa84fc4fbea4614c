"""The connect phase of /ws/risk, apart: N websockets opened against one node, timed per connection.

The fan-out benchmarks (bench_ws, bench_api_nodes) found delivery fine once clients are connected
and the connect storm slow. This measures only the storm, at a scale a shared machine takes: a
private Mosquitto, the bench_ws publisher (one colour change a second, so the node broadcasts to
the clients already connected while the rest arrive) and ``marine-watch serve`` run as in
production (INFO logs as JSON lines, to a file here; uvicorn's options from ``server_options``).
One client process (uvloop, a minimal RFC 6455 client) opens N websockets, ``--concurrency`` at a
time (``all``: every one at once, as after a network blip), and times for each: TCP connect, the
101 answer and the whole snapshot frame. Also, per connection: the node's CPU time, its time in
the cyclic garbage collector (a ``gc.callbacks`` timer the runner prints on SIGUSR1) and its log
lines during the phase; and the kernel's ListenDrops (a full accept queue; machine-wide).

``--src NAME=DIR`` (repeatable) runs the node from another source tree (e.g. an export of main,
``git archive main | tar -x -C /tmp/base``) with this venv: runs alternate between the trees
(A/B), so both see the same machine load. ``--profile DIR`` records the node with py-spy (if
installed: ``pip install py-spy``) during each connect phase, as raw stacks, and adds their
shares by part (handshake, ASGI stack, logs, snapshot...) to the row. One JSON line per run.
Not part of run_all: a diagnosis of the fan-out benches' connect phase (BENCHMARKS.md).

    python -m benchmarks.bench_ws_connect --clients 4000 --runs 3 --src before=/tmp/base --src after=.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.bench_ws import ROOT, scenario_config, start_publisher
from benchmarks.service_proc import free_port, stop, wait_port
from tests.services import start_mosquitto

REPO = Path(__file__).resolve().parents[1]
RUNNER = """
import gc, json, resource, signal, sys, time
spent = {"gc_s": 0.0, "collections": [0, 0, 0]}
def timed(phase, info, _t=[0.0]):  # the time the cyclic garbage collector takes
    if phase == "start":
        _t[0] = time.perf_counter()
    else:
        spent["gc_s"] += time.perf_counter() - _t[0]
        spent["collections"][info["generation"]] += 1
gc.callbacks.append(timed)
signal.signal(signal.SIGUSR1, lambda *_: print("GC_STATS " + json.dumps(spent), file=sys.stderr, flush=True))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one fd per websocket client
from marine_watch.cli.main import main
sys.exit(main(["serve"]))
"""


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def node(
    src: Path, broker_url: str, config: Path, log: Path, env: dict[str, str]
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``marine-watch serve`` (a full node) from the source tree ``src``; yields (port, process)."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="mw-bench-data-")
    settings = {
        "CONFIG_DIR": str(config),
        "DATA_DIR": data,
        "MQTT_URL": broker_url,
        "MQTT_CLIENT_ID": f"mw-bench-{port}",
        "MQTT_TOPIC_ROOT": ROOT,
        "HTTP_PORT": str(port),
        "RISK_TICK_S": "1.0",
        "WS_MAX_PER_CLIENT": "1000000",  # every client comes from 127.0.0.1
        **env,
    }
    full = {**os.environ, **{f"MARINE_WATCH_{k}": v for k, v in settings.items()}}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER], cwd=src, env=full, stdout=out, stderr=out
        )
    try:
        wait_port(port, 60)
        time.sleep(1.0)  # ingest subscribes, the first evaluation runs
        yield port, proc
    finally:
        stop(proc, data, timeout_s=20)


class Client(asyncio.Protocol):
    """One websocket: handshake, then the first message (the snapshot) in full; the rest dropped."""

    def __init__(self, host: str, done: asyncio.Future[None]) -> None:
        self.host, self.done = host, done
        self.buf = b""
        self.t_start = time.perf_counter()
        self.t_tcp = self.t_101 = self.t_first = 0.0
        self.first_bytes = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t_tcp = time.perf_counter()
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            (
                f"GET /ws/risk HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"closed before the snapshot: {exc}"))

    def data_received(self, data: bytes) -> None:
        if self.t_first:
            return  # later messages: not this benchmark's business
        self.buf += data
        if not self.t_101 and not self._handshake():
            return
        size = _frame_size(self.buf)
        if size is None:
            return
        h, n = size
        if len(self.buf) >= h + n:
            self.t_first = time.perf_counter()
            self.first_bytes = n
            self.buf = b""
            if not self.done.done():
                self.done.set_result(None)

    def _handshake(self) -> bool:
        """Take the 101 answer off the buffer once it is whole; False until then, or on a refusal."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = self.buf[:end].decode("latin-1")
        if not head.startswith("HTTP/1.1 101"):
            self.done.set_exception(ConnectionError(head.split("\r\n", 1)[0]))
            return False
        self.t_101 = time.perf_counter()
        self.buf = self.buf[end + 4 :]
        return True


def _frame_size(buf: bytes) -> tuple[int, int] | None:
    """(header, payload) lengths of the websocket frame that starts ``buf``; None until its header is in."""
    if len(buf) < 2:
        return None
    n, h = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, h = struct.unpack_from("!H", buf, 2)[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, h = struct.unpack_from("!Q", buf, 2)[0], 10
    return h, n


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def storm(port: int, n: int, concurrency: int, timeout_s: float) -> dict[str, object]:
    """Open ``n`` websockets, ``concurrency`` at a time; per-connection times, then close them."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    clients: list[Client] = []
    errors: list[str] = []

    async def one() -> None:
        async with gate:
            done: asyncio.Future[None] = loop.create_future()
            try:
                _, proto = await loop.create_connection(
                    lambda: Client(f"127.0.0.1:{port}", done), "127.0.0.1", port
                )
                clients.append(proto)
                await asyncio.wait_for(asyncio.shield(done), timeout_s)
            except Exception as exc:  # a figure, not a failure
                errors.append(f"{type(exc).__name__}: {exc}"[:120])

    started = time.perf_counter()
    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.wait(tasks)
    wall = time.perf_counter() - started
    ok = [c for c in clients if c.t_first]
    for c in clients:
        if c.transport is not None:
            c.transport.abort()
    tcp = [c.t_tcp - c.t_start for c in ok]
    upgrade = [c.t_101 - c.t_tcp for c in ok]
    first = [c.t_first - c.t_101 for c in ok]
    total = [c.t_first - c.t_start for c in ok]
    return {
        "clients": n,
        "snapshots": len(ok),
        "errors": len(errors),
        "error_sample": sorted(set(errors))[:3],
        "connect_all_s": round(wall, 2),
        "per_s": round(len(ok) / wall),
        "snapshot_kb": round(max((c.first_bytes for c in ok), default=0) / 1024, 1),
        **{f"{name}_ms_p50": _ms(pct(xs, 50)) for name, xs in _phases(tcp, upgrade, first, total)},
        **{f"{name}_ms_p99": _ms(pct(xs, 99)) for name, xs in _phases(tcp, upgrade, first, total)},
        "total_ms_max": _ms(max(total, default=None)),
    }


def _phases(*columns: list[float]) -> list[tuple[str, list[float]]]:
    return list(zip(("tcp", "upgrade", "snapshot", "total"), columns, strict=True))


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def one_run(
    name: str, src: Path, args: argparse.Namespace, broker_url: str, config: Path, out: Path
) -> dict[str, object]:
    log = out / f"node-{name}-{time.monotonic_ns()}.log"
    env = dict(e.split("=", 1) for e in args.env)
    with node(src, broker_url, config, log, env) as (port, proc):
        gc0 = _gc_stats(proc, log)
        lines0, bytes0 = _log_size(log)
        cpu0 = cpu_s(proc.pid)
        spy = None
        py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        if args.profile and py_spy:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            target = Path(args.profile) / f"{name}-{time.monotonic_ns()}.txt"
            record = ["record", "-p", str(proc.pid), "-f", "raw", "-r", "200", "--nonblocking"]
            spy = subprocess.Popen(
                [py_spy, *record, "-o", str(target)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
        concurrency = args.clients if args.concurrency == "all" else int(args.concurrency)
        drops0 = listen_drops()
        row = asyncio.run(storm(port, args.clients, concurrency, args.timeout))
        cpu1 = cpu_s(proc.pid)
        row["listen_drops_machine"] = listen_drops() - drops0
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
            row["profile_pct"] = breakdown(target)
        lines1, bytes1 = _log_size(log)
        gc1 = _gc_stats(proc, log)
        time.sleep(2.0)  # the node notices the closes before it stops
    done = max(1, int(row["snapshots"]))  # type: ignore[call-overload]
    return {
        "tree": name,
        **row,
        "node_cpu_ms_per_conn": round(1000 * (cpu1 - cpu0) / done, 2),
        "gc_ms_per_conn": round(1000 * (gc1["gc_s"] - gc0["gc_s"]) / done, 2),
        "gc_full_collections": gc1["collections"][2] - gc0["collections"][2],
        "log_lines_per_conn": round((lines1 - lines0) / done, 2),
        "log_bytes_per_conn": round((bytes1 - bytes0) / done),
        "load_1m": round(os.getloadavg()[0], 1),
    }


def listen_drops() -> int:
    """The kernel's count of connections dropped at a full accept queue (whole machine)."""
    lines = Path("/proc/net/netstat").read_text(encoding="ascii").splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=True):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split(), strict=True))["ListenDrops"])
    return 0


#: Where the node's samples go, first match on the stack (function names, not line numbers, so
#: that trees with other line numbers compare).
CATEGORIES = (
    ("logs", ("logging/__init__.py", "structlog/")),
    ("broadcast of changes", ("Pipeline.announce", "Hub.publish", "Hub.beat", "_pump (")),
    ("snapshot encode", ("snapshot_text", "snapshot_message")),
    ("snapshot send, receive loop", ("_serve (marine_watch/api/routes/ws.py",)),
    ("caps", ("_capped (",)),
    ("handshake", ("WebSocket.accept", "HttpToolsProtocol", "handle_connect", "(websockets/")),
    ("ASGI stack and routing", ("run_asgi",)),
    ("other tasks and threads", ("supervised (", "Thread.run")),
)


def breakdown(stacks: Path) -> dict[str, float]:
    """Share of the node's samples (py-spy raw stacks) per category, in %."""
    counts = dict.fromkeys([c for c, _ in CATEGORIES] + ["event loop, sockets"], 0)
    for line in stacks.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        name = next(
            (c for c, marks in CATEGORIES if any(m in stack for m in marks)), "event loop, sockets"
        )
        counts[name] += int(n)
    total = max(1, sum(counts.values()))
    return {c: round(100 * n / total, 1) for c, n in counts.items()}


def _gc_stats(proc: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    """The node's time in the garbage collector so far (the runner prints it on SIGUSR1)."""
    before = log.read_bytes().count(b"GC_STATS ")
    proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while (lines := log.read_bytes().split(b"GC_STATS ")) and len(lines) - 1 <= before:
        if time.monotonic() > deadline:
            return {"gc_s": float("nan"), "collections": [0, 0, 0]}
        time.sleep(0.05)  # polling the log file
    stats: dict[str, Any] = json.loads(lines[-1].split(b"\n", 1)[0])
    return stats


def _log_size(log: Path) -> tuple[int, int]:
    data = log.read_bytes()
    return data.count(b"\n"), len(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clients", type=int, default=3000)
    ap.add_argument("--concurrency", default="200", help="connections in flight, or 'all'")
    ap.add_argument("--runs", type=int, default=1, help="runs per source tree, alternating")
    ap.add_argument(
        "--timeout", type=float, default=60.0, help="per connection, up to the snapshot"
    )
    ap.add_argument("--src", action="append", default=[], help="NAME=DIR (default: this tree)")
    ap.add_argument("--env", action="append", default=[], help="K=V: MARINE_WATCH_K for the node")
    ap.add_argument("--profile", default="", help="directory for py-spy stacks")
    ap.add_argument("--out", default="", help="directory for node logs (default: a temp dir)")
    args = ap.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    trees = [(s.split("=", 1)[0], Path(s.split("=", 1)[1]).resolve()) for s in args.src] or [
        ("this", REPO)
    ]
    out = Path(args.out or tempfile.mkdtemp(prefix="mw-bench-connect-"))
    out.mkdir(parents=True, exist_ok=True)
    broker = start_mosquitto(Path(tempfile.mkdtemp(prefix="mw-bench-broker-")))
    publisher, _ = start_publisher(broker.port, 0, 3600.0)  # one colour change a second
    config = scenario_config()
    try:
        for r in range(1, args.runs + 1):
            for name, src in trees:
                row = one_run(name, src, args, broker.url, config, out)
                print(json.dumps({"run": r, "concurrency": args.concurrency, **row}), flush=True)
    finally:
        publisher.terminate()
        publisher.join(10)
        broker.stop()


if __name__ == "__main__":
    main()
