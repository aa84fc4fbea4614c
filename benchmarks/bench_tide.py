"""Benchmark: tide prediction and analysis against UTide (1 year hourly, about 60 constituents).

Run ``python -m benchmarks.bench_tide``; `run` returns the rows for a runner.
"""

import time
import warnings
from collections.abc import Callable

import numpy as np

from risk_models import tide

LAT = 51.44
START_S = 1262304000.0  # 2010-01-01T00:00Z
N_CONSTITUENTS = 60
REPEAT = 5


def _best_ms(func: Callable[[], object], repeat: int = REPEAT) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best


def _synthetic_year() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    rng = np.random.default_rng(2010)
    t = START_S + 3600.0 * np.arange(365 * 24)
    names = tide.select_constituents(float(np.ptp(t)) / 3600)[:N_CONSTITUENTS]
    truth = tide.TideConstants(
        LAT, 0.1, names, rng.uniform(0.005, 0.3, len(names)), rng.uniform(0, 360, len(names))
    )
    return t, tide.predict(truth, t) + rng.normal(0, 0.05, t.size), names


def run() -> list[dict[str, object]]:
    """Time predict and fit against utide.reconstruct and utide.solve on the same inputs."""
    import utide  # only a reference for the benchmark

    t, h, names = _synthetic_year()
    days = t / 86400.0
    opts = {"lat": LAT, "method": "ols", "conf_int": "linear", "trend": False, "nodal": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coef = utide.solve(days, h, constit=list(names), verbose=False, epoch="1970-01-01", **opts)
        ours = tide.TideConstants(LAT, float(coef.mean), tuple(coef.name), coef.A, coef.g)

        def reconstruct() -> np.ndarray:
            return utide.reconstruct(days, coef, verbose=False, epoch="1970-01-01", min_SNR=0).h

        def solve() -> object:
            return utide.solve(
                days, h, constit=list(names), verbose=False, epoch="1970-01-01", **opts
            )

        diff_mm = 1e3 * float(np.max(np.abs(tide.predict(ours, t) - reconstruct())))
        ut_predict, ut_fit = _best_ms(reconstruct), _best_ms(solve, 2)
    mw_predict = _best_ms(lambda: tide.predict(ours, t))
    mw_fit = _best_ms(lambda: tide.fit(t, h, LAT, constituents=names), 2)
    fitted = tide.fit(t, h, LAT, constituents=names)
    fit_diff_mm = 1e3 * float(
        np.max(np.abs(fitted.amplitude_m - coef.A[[list(coef.name).index(n) for n in names]]))
    )
    return [
        {"case": f"predict 1 y hourly, {len(names)} constituents", "marine_watch_ms": mw_predict,
         "utide_ms": ut_predict, "speedup": ut_predict / mw_predict, "max_diff_mm": diff_mm},
        {"case": f"fit 1 y hourly, {len(names)} constituents", "marine_watch_ms": mw_fit,
         "utide_ms": ut_fit, "speedup": ut_fit / mw_fit, "max_diff_mm": fit_diff_mm},
    ]  # fmt: skip


def main() -> None:
    """Print the results as a markdown table."""
    rows = run()
    print("| case | marine_watch ms | utide ms | speed-up | max diff mm |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['case']} | {r['marine_watch_ms']:.1f} | {r['utide_ms']:.1f} "
            f"| {r['speedup']:.1f}x | {r['max_diff_mm']:.4f} |"
        )


if __name__ == "__main__":
    main()
