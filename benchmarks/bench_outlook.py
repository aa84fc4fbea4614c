"""Benchmark: what the hourly overtopping outlook costs one evaluation of the sample coast.

Every station of config/ reports (tide, waves, wind); the assessor runs with the outlook (24 hourly
overtopping levels per dike in one vectorised EurOtop evaluation) and, as the baseline in the same
run, with it switched off, interleaved. Target: the outlook adds at most half to an evaluation
(``ratio <= 1.5``) and an evaluation stays under 50 ms. (One EurOtop call per hour made it 7.8x.)

Run as ``python -m benchmarks.bench_outlook``; prints a markdown table.
"""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

import numpy as np

from marine_watch.coast import load_catalogue, load_constants
from marine_watch.risk import hazards
from marine_watch.risk.hazards import Assessor
from marine_watch.risk.state import CoastState
from marine_watch.settings import Settings
from risk_models import tide
from sensors.reading import Reading

CONFIG = Path(__file__).resolve().parents[1] / "config"
NOW = 1_795_000_000.0
REPEATS = 30
TARGET_RATIO = 1.5
TARGET_MS = 50.0
VALUES = {"wave_height": 2.5, "wave_period": 8.0, "wind_speed": 12.0, "wind_gust": 18.0}


def _coast(assessor: Assessor) -> CoastState:
    state = CoastState()
    t = NOW - np.arange(3600.0, -1.0, -300.0)
    for station in assessor.catalogue.stations:
        constants = assessor.constants.get(station.id)
        for kind in station.kinds:
            if kind.value == "tide_level" and constants is not None:
                water = tide.predict(constants, t) + station.gauge_to_85_m + 0.5
                state.add(
                    Reading(station.id, kind.value, int(x * 1e9), float(v))
                    for x, v in zip(t, water, strict=True)
                )
            elif kind.value in VALUES:
                state.add(
                    Reading(station.id, kind.value, int(x * 1e9), VALUES[kind.value]) for x in t
                )
    return state


def _once_ms(assessor: Assessor, state: CoastState) -> float:
    start = time.perf_counter()
    assessor.assess(state, NOW)
    return (time.perf_counter() - start) * 1e3


def _best_ms(assessor: Assessor, state: CoastState) -> tuple[float, float]:
    """(with, without) the outlook: best of REPEATS, interleaved so drift hits both alike."""
    with_outlook, without = [], []
    for _ in range(REPEATS):
        with_outlook.append(_once_ms(assessor, state))
        with mock.patch.object(hazards, "overtopping_outlook", return_value=()):
            without.append(_once_ms(assessor, state))
    return min(with_outlook), min(without)


def run() -> list[dict[str, object]]:
    catalogue = load_catalogue(CONFIG)
    assessor = Assessor(catalogue, load_constants(Settings(config_dir=CONFIG), catalogue))
    state = _coast(assessor)
    with_outlook, baseline = _best_ms(assessor, state)
    ratio = with_outlook / baseline
    return [
        {
            "case": f"assess {len(catalogue.stations)} stations + {len(catalogue.segments)} dikes",
            "without outlook (baseline) ms": round(baseline, 2),
            "with 24 h overtopping outlook ms": round(with_outlook, 2),
            "ratio": round(ratio, 2),
            "target": f"ratio <= {TARGET_RATIO}, < {TARGET_MS:.0f} ms",
            "met": ratio <= TARGET_RATIO and with_outlook < TARGET_MS,
        }
    ]


if __name__ == "__main__":
    from benchmarks.run_all import table

    print(table(run()))
