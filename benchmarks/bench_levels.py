"""Benchmark: classify 1,000,000 locations x 5 hazards into colours (target < 0.5 s).

Run as ``python -m benchmarks.bench_levels``; prints a markdown table.
"""

import time
from collections.abc import Callable
from functools import partial

import numpy as np

from risk_models.levels import classify_hazards, colours, combine_with_unknown

N_LOCATIONS = 1_000_000
N_HAZARDS = 5
REPEATS = 5
TARGET_S = 0.5
#: Bounds per hazard (surge m, Hs m, wind m/s, q l/s/m, chl-a µg/L), DOMAIN.md SAMPLE values.
BOUNDS = np.array(
    [
        [4.45, 4.75, 5.10, 5.40],
        [2.5, 3.5, 4.5, 6.0],
        [10.8, 17.2, 24.5, 32.7],
        [0.1, 1.0, 5.0, 20.0],
        [10.0, 20.0, 40.0, 80.0],
    ]
)


def _inputs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    values = rng.uniform(0.0, 1.2, (N_LOCATIONS, N_HAZARDS)) * BOUNDS[:, 3]
    values[rng.random(values.shape) < 0.01] = np.nan  # 1 % missing readings
    per_location = np.broadcast_to(BOUNDS, (N_LOCATIONS, N_HAZARDS, 4)).copy()
    return values, per_location


def _best_s(fn: Callable[[], object]) -> tuple[float, float]:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times))


def run() -> list[dict[str, object]]:
    """Time the classification with shared and per-location bounds; return one row per case."""
    values, per_location = _inputs(np.random.default_rng(20121030))

    def to_colours(bounds: np.ndarray) -> None:
        level, _ = combine_with_unknown(classify_hazards(values, bounds))
        colours(level)

    rows: list[dict[str, object]] = []
    cases = {"shared bounds (5, 4)": BOUNDS, "per-location bounds (n, 5, 4)": per_location}
    for name, bounds in cases.items():
        best, median = _best_s(partial(to_colours, bounds))
        rows.append(
            {
                "case": f"{N_LOCATIONS:,} locations x {N_HAZARDS} hazards, {name}",
                "best_s": round(best, 4),
                "median_s": round(median, 4),
                "target_s": TARGET_S,
                "ok": best < TARGET_S,
            }
        )
    return rows


def _markdown(rows: list[dict[str, object]]) -> str:
    head = "| case | best s | median s | target s | ok |\n|---|---|---|---|---|"
    body = [
        f"| {r['case']} | {r['best_s']} | {r['median_s']} | {r['target_s']} | {r['ok']} |"
        for r in rows
    ]
    return "\n".join([head, *body])


if __name__ == "__main__":
    print(_markdown(run()))
