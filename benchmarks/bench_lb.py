"""Websocket fan-out through HAProxy vs direct, on a network of namespace hosts (needs root).

Hosts: ``ws`` runs the raw websockets broadcast (benchmarks/baselines/ws_broadcast_node.py, 1 Hz,
~200 B), ``lb`` runs HAProxy with the shipped deploy/haproxy config, ``client`` runs ONE ws_fanout.py
client process (its ``_clients`` role: the lite RFC 6455 client of the fan-out benchmarks) holding
every connection. Latency is the message's send time → receipt (one kernel, one clock).

Limits that shape the levels on this machine: a process may hold at most RLIMIT_NOFILE descriptors
and, without CAP_SYS_RESOURCE, cannot raise the hard limit (20,000 here). HAProxy needs two per
proxied connection, so one HAProxy process takes at most (hard − 64) / 2 = 9,968 websockets; two
HAProxy processes bound to the same address (SO_REUSEPORT, the kernel spreads the connections)
take 10,000 and more. Ephemeral ports: 28,232 (32768–60999) per source address and destination
address:port, i.e. per client address towards the frontend and per HAProxy address towards each
node address; both are above what the descriptor limit allows here.

Cases, each with a fresh broadcast node (~9 minutes): LB_ROUNDS (2) rounds of direct 10,000,
2 × HAProxy 10,000 and 1 × HAProxy 9,950 (the spread between rounds is the noise); then capacity
levels: 1 × HAProxy asked for maxconn + 532 (it holds maxconn) and 2 × HAProxy asked for 19,000.
"""

import json
import os
import resource
import sys
import tempfile
import time
from array import array
from pathlib import Path

from benchmarks.bench_ws import FANOUT_SCRIPT, pct
from tests.netns import Host, HostProcess, Network, netns_unavailable, sweep_stale
from tests.netns_servers import Haproxy, haproxy_maxconn_limit, start_haproxy

NODE_SCRIPT = Path(__file__).resolve().parent / "baselines" / "ws_broadcast_node.py"
DURATION_S = float(os.environ.get("LB_FANOUT_S", "15"))
WARMUP_S = 3.0
CLIENTS = int(os.environ.get("LB_CLIENTS", "10000"))
ONE_LB_CLIENTS = int(os.environ.get("LB_ONE_CLIENTS", "9950"))
CAPACITY = os.environ.get("LB_CAPACITY", "1") == "1"
ROUNDS = int(os.environ.get("LB_ROUNDS", "2"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run_clients(
    client: Host,
    url: str,
    n: int,
    watched: list[HostProcess],
    proxies: list[Haproxy],
    duration_s: float,
) -> dict[str, object]:
    """One ws_fanout client process with ``n`` connections to ``url``; its figures, the CPU of
    the ``watched`` processes (server, HAProxy) over the measured window, sessions per proxy."""
    out = client.logdir / f"clients-{time.monotonic_ns()}.json"
    args = [sys.executable, str(FANOUT_SCRIPT), "_clients", "--url", url, "--n", str(n)]
    args += ["--out", str(out), "--duration", f"{duration_s:g}", "--warmup", f"{WARMUP_S:g}"]
    args += ["--ts-field", "ts", "--connect-concurrency", "200", "--connect-timeout", "10"]
    args += ["--connect-phase-timeout", "150"]
    proc = client.spawn(args, name=f"clients-{time.monotonic_ns()}")
    while "READY" not in proc.log.read_text(encoding="utf-8"):
        proc.check_alive()
        time.sleep(0.05)  # polling a condition
    time.sleep(WARMUP_S)
    before = [cpu_s(p.pid) for p in watched]
    time.sleep(duration_s)
    after = [cpu_s(p.pid) for p in watched]
    sessions = [_frontend_sessions(proxy) for proxy in proxies]
    assert proc.popen is not None
    proc.popen.wait(120)
    res = json.loads(out.read_text(encoding="utf-8"))
    lat = array("d", out.with_suffix(".json.lat").read_bytes())
    connected = res["connected"]
    return {
        "clients": n,
        "connected": connected,
        "connect_s": res["connect_s"],
        "delivered_pct": round(100 * res["count"] / (connected * duration_s), 2)
        if connected
        else None,
        "lat_ms_p50": _ms(pct(list(lat), 50)),
        "lat_ms_p99": _ms(pct(list(lat), 99)),
        "lat_ms_max": _ms(max(lat, default=None)),
        "client_cpu_pct": round(100 * res["cpu_s"] / duration_s, 1),
        "server_cpu_pct": round(100 * (after[0] - before[0]) / duration_s, 1),
        "haproxy_cpu_pct": round(100 * (sum(after[1:]) - sum(before[1:])) / duration_s, 1)
        if len(watched) > 1
        else None,
        "sessions_per_haproxy": sessions or None,
        "connect_error_sample": res["connect_error_sample"][:1],
    }


def _frontend_sessions(proxy: Haproxy) -> int:
    return next(
        int(r["scur"]) for r in proxy.stat() if r["svname"] == "FRONTEND" and r["pxname"] == "api"
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def level(net: Network, case: str, n: int, lbs: int, duration_s: float = DURATION_S) -> dict:
    """A fresh broadcast node (and ``lbs`` HAProxy processes on one address) for one level."""
    ws, lb, client = net.hosts["ws"], net.hosts["lb"], net.hosts["client"]
    node = ws.spawn(
        [sys.executable, str(NODE_SCRIPT), "--host", ws.ip, "--port", "8000", "--hz", "1"],
        name=f"node-{time.monotonic_ns()}",
    )
    node.wait_port(8000)
    watched, proxies, url = [node], [], f"ws://{ws.ip}:8000/ws/risk"
    tmp = lb.logdir / f"haproxy-{time.monotonic_ns()}"
    for i in range(lbs):
        proxy = start_haproxy(
            lb, tmp, [("ws", f"{ws.ip}:8000")], stats_port=8404 + i, name=f"haproxy{i}"
        )
        proxy.wait_status("api_http", "ws", "UP")
        watched.append(proxy.proc)
        proxies.append(proxy)
        url = f"ws://{lb.ip}/ws/risk"
    try:
        row = run_clients(client, url, n, watched, proxies, duration_s)
    finally:
        for proc in reversed(watched):
            proc.terminate()
    return {"case": case, **row, "load_1m": os.getloadavg()[0]}


def run() -> list[dict[str, object]]:
    if (reason := netns_unavailable()) is not None:
        return [{"case": "websocket fan-out through HAProxy", "error": reason}]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sweep_stale()
    maxconn = haproxy_maxconn_limit()
    with (
        tempfile.TemporaryDirectory(prefix="mw-bench-netns-") as logs,  # HAProxy logs ~1 MB/case
        Network(Path(logs)) as net,
    ):
        for name in ("ws", "lb", "client"):
            net.add_host(name)
        rows = []
        for r in range(1, ROUNDS + 1):
            rows.append(level(net, f"round {r}: direct, {CLIENTS:,} clients", CLIENTS, 0))
            rows.append(level(net, f"round {r}: 2 × HAProxy, {CLIENTS:,} clients", CLIENTS, 2))
            rows.append(
                level(net, f"round {r}: 1 × HAProxy, {ONE_LB_CLIENTS:,} clients", ONE_LB_CLIENTS, 1)
            )
        if CAPACITY:
            over = maxconn + 532
            rows.append(level(net, f"capacity: 1 × HAProxy (maxconn {maxconn:,})", over, 1, 5))
            rows.append(level(net, "capacity: 2 × HAProxy", 19_000, 2, 5))
    for row in rows:
        row["fd_hard_limit"] = hard
    return rows


def table(rows: list[dict[str, object]]) -> str:
    cols = ["case", "clients", "connected", "delivered_pct", "lat_ms_p50", "lat_ms_p99"]
    cols += ["lat_ms_max", "connect_s", "server_cpu_pct", "haproxy_cpu_pct", "client_cpu_pct"]
    cols += ["sessions_per_haproxy", "load_1m", "connect_error_sample", "error"]
    cols = [c for c in cols if any(r.get(c) not in (None, []) for r in rows)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run()))
