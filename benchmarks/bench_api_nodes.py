"""Fan-out from API nodes: 10,000 websocket clients × 1 change/s, on a network of namespace hosts.

Hosts: ``broker`` (Mosquitto, and the publisher of bench_ws: one flip a second of the bench-only
station ``bench-flip``, so exactly one place changes colour a second), ``risk`` (a risk node: it
evaluates and publishes the retained risk topics), ``api1`` and ``api2`` (API nodes,
``MARINE_WATCH_NODE_ROLE=api``: they rebuild /ws/risk from the topics), ``lb`` (two HAProxy
processes on one address with the shipped deploy/haproxy config: one takes at most ~9,968
websockets under the 20,000-descriptor hard limit here), ``client`` (one ws_fanout.py client
process holding every connection). Latency: the change's ``ts`` (the start of the risk node's
evaluation that made it) → receipt on the client, one kernel, one clock: it includes the MQTT hop.

Each of RUNS (5) consecutive runs measures, in the same run: the raw ``websockets`` broadcast
(benchmarks/baselines/ws_broadcast_node.py in host api1: the baseline), one API node with every
client, and both API nodes behind HAProxy. A case passes when p99 < 1 s, every client connected,
at least 100 % delivered (the service's heartbeats, one per 15 s, add 6.67 %) and every client
ends on the latest state (``behind_at_end`` = 0: no client's newest change is more than 1.5 s
older than the newest any client got).
"""

import json
import os
import resource
import sys
import tempfile
import time
from array import array
from pathlib import Path

from benchmarks.bench_lb import cpu_s
from benchmarks.bench_ws import FANOUT_SCRIPT, ROOT, pct, scenario_config
from tests.netns import Host, HostProcess, Network, netns_unavailable, sweep_stale
from tests.netns_servers import Haproxy, HostServer, start_haproxy, start_mosquitto_on, wait_http

NODE_SCRIPT = Path(__file__).resolve().parent / "baselines" / "ws_broadcast_node.py"
MARINE_WATCH = str(Path(sys.executable).with_name("marine-watch"))
REPO = Path(__file__).resolve().parents[1]
CLIENTS = int(os.environ.get("API_CLIENTS", "10000"))
RUNS = int(os.environ.get("API_RUNS", "5"))
DURATION_S = float(os.environ.get("API_FANOUT_S", "15"))
WARMUP_S = 3.0
PUBLISHER = (
    "import sys; from benchmarks.bench_ws import publish; "
    "publish(int(sys.argv[1]), 0, float(sys.argv[2]), sys.argv[3])"
)


def node(host: Host, broker: HostServer, config: Path, role: str, **env: str) -> HostProcess:
    """`marine-watch serve` in ``host`` on :8000 with the benchmark coast."""
    settings = {
        "NODE_ROLE": role,
        "CONFIG_DIR": str(config),
        "DATA_DIR": str(host.logdir / "data"),
        "MQTT_URL": broker.url,
        "MQTT_CLIENT_ID": f"mw-bench-{host.name}",
        "MQTT_TOPIC_ROOT": ROOT,
        "HTTP_HOST": host.ip,
        "HTTP_PORT": "8000",
        "RISK_TICK_S": "1.0",
        "RATE_LIMIT_PER_S": "1000000",
        "RATE_LIMIT_BURST": "1000000",
        "WS_CLIENT_QUEUE": "64",
        "WS_MAX_PER_CLIENT": "1000000",  # every client comes from the client host (or HAProxy)
        **env,
    }
    full = {f"MARINE_WATCH_{k}": v for k, v in settings.items()}
    proc = host.spawn([MARINE_WATCH, "serve"], name=f"{role}-{time.monotonic_ns()}", env=full)
    wait_http(HostServer(host, proc, f"http://{host.ip}:8000", 8000), "/health", 200, timeout=90)
    return proc


def run_clients(
    client: Host, url: str, n: int, watched: list[HostProcess], proxies: list[Haproxy]
) -> dict[str, object]:
    """One ws_fanout client process with ``n`` connections to ``url``; its figures."""
    out = client.logdir / f"clients-{time.monotonic_ns()}.json"
    args = [sys.executable, str(FANOUT_SCRIPT), "_clients", "--url", url, "--n", str(n)]
    args += ["--out", str(out), "--duration", f"{DURATION_S:g}", "--warmup", f"{WARMUP_S:g}"]
    args += ["--ts-field", "ts", "--connect-concurrency", "200", "--connect-timeout", "10"]
    args += ["--connect-phase-timeout", "150"]
    proc = client.spawn(args, name=f"clients-{time.monotonic_ns()}", cwd=REPO)
    while "READY" not in proc.log.read_text(encoding="utf-8"):
        proc.check_alive()
        time.sleep(0.05)  # polling a condition
    time.sleep(WARMUP_S)
    before = [cpu_s(p.pid) for p in watched]
    time.sleep(DURATION_S)
    after = [cpu_s(p.pid) for p in watched]
    sessions = [
        next(int(r["scur"]) for r in p.stat() if r["svname"] == "FRONTEND" and r["pxname"] == "api")
        for p in proxies
    ]
    assert proc.popen is not None
    proc.popen.wait(120)
    res = json.loads(out.read_text(encoding="utf-8"))
    lat = list(array("d", out.with_suffix(".json.lat").read_bytes()))
    last = res.get("last_hist", [])
    newest = max(last, default=0.0)
    connected = res["connected"]
    return {
        "clients": n,
        "connected": connected,
        "connect_s": res["connect_s"],
        "delivered_pct": round(100 * res["count"] / (connected * DURATION_S), 2)
        if connected
        else None,
        "lat_ms_p50": _ms(pct(lat, 50)),
        "lat_ms_p99": _ms(pct(lat, 99)),
        "lat_ms_max": _ms(max(lat, default=None)),
        "behind_at_end": sum(1 for t in last if t < newest - 1.5),
        "node_cpu_pct": [
            round(100 * (a - b) / DURATION_S, 1) for a, b in zip(after, before, strict=True)
        ],
        "sessions_per_haproxy": sessions or None,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def passed(row: dict[str, object]) -> bool:
    p99 = row.get("lat_ms_p99")
    return (
        isinstance(p99, float)
        and p99 < 1000
        and row.get("connected") == row.get("clients")
        and float(row.get("delivered_pct") or 0) >= 100.0  # heartbeats (1 per 15 s) count too
        and row.get("behind_at_end") == 0
    )


def one_run(net: Network, broker: HostServer, r: int, config: Path) -> list[dict[str, object]]:
    h = net.hosts
    rows = []
    raw = h["api1"].spawn(
        [sys.executable, str(NODE_SCRIPT), "--host", h["api1"].ip, "--port", "8000", "--hz", "1"],
        name=f"raw-{r}",
    )
    raw.wait_port(8000)
    try:
        row = run_clients(h["client"], f"ws://{h['api1'].ip}:8000/ws/risk", CLIENTS, [raw], [])
    finally:
        raw.terminate()
    rows.append({"case": f"run {r}: raw websockets broadcast, one node", **row})

    apis = [node(h[name], broker, config, "api") for name in ("api1", "api2")]
    try:
        row = run_clients(h["client"], f"ws://{h['api1'].ip}:8000/ws/risk", CLIENTS, apis[:1], [])
        rows.append({"case": f"run {r}: one API node /ws/risk", **row})
        tmp = h["lb"].logdir / f"haproxy-{r}"
        servers = [(name, f"{h[name].ip}:8000") for name in ("api1", "api2")]
        proxies = [
            start_haproxy(h["lb"], tmp, servers, stats_port=8404 + i, name=f"haproxy{i}")
            for i in range(2)
        ]
        try:
            for proxy in proxies:
                for name in ("api1", "api2"):
                    proxy.wait_status("api_http", name, "UP", timeout=30)
            row = run_clients(h["client"], f"ws://{h['lb'].ip}/ws/risk", CLIENTS, apis, proxies)
            rows.append({"case": f"run {r}: two API nodes behind 2 × HAProxy", **row})
        finally:
            for proxy in proxies:
                proxy.proc.terminate()
    finally:
        for proc in apis:
            proc.terminate()
    for row in rows:
        row["pass"] = passed(row)
        row["load_1m"] = round(os.getloadavg()[0], 1)
    return rows


def run() -> list[dict[str, object]]:
    if (reason := netns_unavailable()) is not None:
        return [{"case": "API node fan-out", "error": reason}]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the nodes inherit it
    sweep_stale()
    config = scenario_config()
    rows: list[dict[str, object]] = []
    with (
        tempfile.TemporaryDirectory(prefix="mw-bench-api-") as logs,
        Network(Path(logs)) as net,
    ):
        for name in ("broker", "risk", "api1", "api2", "lb", "client"):
            net.add_host(name)
        broker = start_mosquitto_on(net.hosts["broker"], Path(logs) / "mosquitto")
        risk = node(net.hosts["risk"], broker, config, "risk")
        flips = Path(logs) / "flips.json"
        publisher = net.hosts["broker"].spawn(
            [sys.executable, "-c", PUBLISHER, str(broker.port), "36000", str(flips)],
            name="publisher",
            cwd=REPO,
        )
        try:
            for r in range(1, RUNS + 1):
                rows += one_run(net, broker, r, config)
        finally:
            publisher.terminate()
            risk.terminate()
    for row in rows:
        row["fd_hard_limit"] = hard
    return rows


def table(rows: list[dict[str, object]]) -> str:
    cols = ["case", "clients", "connected", "delivered_pct", "lat_ms_p50", "lat_ms_p99"]
    cols += ["lat_ms_max", "behind_at_end", "connect_s", "node_cpu_pct", "sessions_per_haproxy"]
    cols += ["pass", "load_1m", "error"]
    cols = [c for c in cols if any(r.get(c) not in (None, []) for r in rows)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run()))
