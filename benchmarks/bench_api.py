"""GET /api/v1/risk?lat&lon throughput and latency next to a minimal FastAPI JSON endpoint.

Both servers: uvicorn, 1 worker, uvloop + httptools, no access log, on loopback; measured with wrk
(2 threads, 64 connections, DURATION s each). Then the resident lookup again at about half the rate
it reached (wrk with a per-request delay), for p99 under a moderate load. Needs `wrk` (Debian).
The service runs without a broker here: ingest keeps retrying in the background, as in an outage.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.service_proc import free_port, service, wait_port

#: The bare-app baselines (benchmarks/baselines/apps: a minimal FastAPI app on the same table shape).
BASELINE_APPS = Path(__file__).resolve().parent / "baselines"
DURATION_S = int(os.environ.get("DURATION", "10"))
THREADS, CONNECTIONS = 2, 64
RISK_PATH = "/api/v1/risk?lat=30.60&lon=121.07"
UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(
    url: str,
    *,
    duration_s: int = DURATION_S,
    connections: int = CONNECTIONS,
    script: str | None = None,
) -> dict[str, float]:
    """Run wrk once; requests/s and latency percentiles in ms."""
    exe = shutil.which("wrk")
    if exe is None:
        msg = "wrk missing: apt-get install -y wrk"
        raise RuntimeError(msg)
    args = [exe, f"-t{THREADS}", f"-c{connections}", f"-d{duration_s}s", "--latency"]
    if script:
        args += ["-s", script]
    out = subprocess.run(
        [*args, url], capture_output=True, text=True, check=True, timeout=duration_s + 30
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        if m:
            result[f"p{pct}_ms"] = round(float(m.group(1)) * UNIT_MS[m.group(2)], 2)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return result


def paced_script(rate_per_s: float, connections: int) -> str:
    """A wrk Lua script whose delay keeps the total near ``rate_per_s``."""
    delay_ms = max(0, int(1000 * connections / rate_per_s))
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text(f"function delay()\n  return {delay_ms}\nend\n", encoding="utf-8")
    return str(path)


def wait_evaluated(url: str, timeout_s: float = 30.0) -> None:
    """Wait for the first evaluation (``since_s`` set): before it every answer is 'unknown'."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=5) as resp:
            if json.load(resp)["since_s"] is not None:
                return
        time.sleep(0.2)
    msg = f"no evaluation within {timeout_s:g} s"
    raise RuntimeError(msg)


def baseline_rps() -> dict[str, float]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "apps.fastapi_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=BASELINE_APPS,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        wrk(f"http://127.0.0.1:{port}/risk/42", duration_s=2)  # warm-up
        return wrk(f"http://127.0.0.1:{port}/risk/42")
    finally:
        proc.terminate()
        proc.wait(10)


def run() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    base = baseline_rps()
    rows.append({"case": "minimal FastAPI GET /risk/{id}", **base})
    with service(mqtt_url=f"mqtt://127.0.0.1:{free_port()}") as port:
        url = f"http://127.0.0.1:{port}{RISK_PATH}"
        wait_evaluated(url)
        wrk(url, duration_s=2)
        full = wrk(url)
        rows.append(
            {
                "case": "marine_watch GET /api/v1/risk?lat&lon",
                **full,
                "vs_baseline": round(full["rps"] / base["rps"], 2),
            }
        )
        half = full["rps"] / 2
        paced = wrk(url, connections=16, script=paced_script(half, 16))
        rows.append({"case": f"marine_watch /risk paced at ~{half:.0f}/s", **paced})
    return rows


def table(rows: list[dict[str, object]]) -> str:
    cols = ["case", "rps", "p50_ms", "p90_ms", "p99_ms", "non_2xx", "vs_baseline"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run()))
