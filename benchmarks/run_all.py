"""Run every benchmark in one process and print their tables (``make bench``).

Each module has ``run() -> list[dict]``; results are printed as markdown and written as JSON lines to
benchmarks/results/latest.jsonl so BENCHMARKS.md can quote one run's numbers.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

MODULES = (
    "bench_levels",
    "bench_outlook",
    "bench_tide",
    "bench_tide_rws",
    "bench_ingest",
    "bench_secure_ingest",
    "bench_hostile",
    "bench_nodes",
    "bench_api",
    "bench_ws",
    "bench_lb",
    "bench_api_nodes",
    "bench_broker_cluster",
)
OUT = Path(__file__).resolve().parent / "results" / "latest.jsonl"


def table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "(no rows)\n"
    cols = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in cols) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(selected: list[str]) -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    failed = 0
    with OUT.open("w", encoding="utf-8") as fh:
        for name in selected or MODULES:
            try:
                module = importlib.import_module(f"benchmarks.{name}")
            except ModuleNotFoundError as exc:
                sys.stdout.write(f"## {name}\nnot available: {exc}\n\n")
                continue
            started = time.perf_counter()
            try:
                rows = module.run()
            except Exception as exc:  # a failing benchmark must not hide the others
                failed += 1
                sys.stdout.write(f"## {name}\nFAILED: {exc!r}\n\n")
                continue
            sys.stdout.write(
                f"## {name} ({time.perf_counter() - started:.0f} s)\n\n{table(rows)}\n"
            )
            for row in rows:
                fh.write(
                    json.dumps(
                        {"bench": name, "at": stamp, "python": platform.python_version(), **row},
                        default=str,
                    )
                    + "\n"
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
