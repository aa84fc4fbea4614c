"""Benchmark: the Rijkswaterstaat convention against hatyan and the official 2019 prediction.

Predicts the MET year 2019 at 10 min from the published RWS component sets (reference/) with
marine_watch and with hatyan in the same run (time, and RMS between them), and fits the
Vlissingen 2009-2012 record to predict the official 2019 tide. Run
``python -m benchmarks.bench_tide_rws``; `run` returns the rows for a runner.
"""

import csv
import datetime as dt
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.bench_tide import _best_ms
from risk_models import tide

REF = Path(__file__).resolve().parents[1] / "reference"
LAT = {"VLISSGN": 51.4423, "HOEKVHLD": 51.9776}


def _rows(name: str) -> list[dict[str, str]]:
    with (REF / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _utc_s(iso: str) -> float:
    return float(np.datetime64(iso.rstrip("Z"), "s").astype(np.int64))


def _rms_cm(diff: np.ndarray) -> float:
    return 100.0 * float(np.sqrt(np.mean(diff**2)))


def _published(station: str) -> tuple[tide.TideConstants, list[dict[str, str]]]:
    rows = [
        r for r in _rows("harmonics_rws_vlissingen_hoekvanholland.csv") if r["station"] == station
    ]
    mean = next(float(r["amplitude_cm"]) / 100 for r in rows if r["constituent"] == "A0")
    comps = [r for r in rows if r["constituent"] != "A0"]
    constants = tide.TideConstants(
        LAT[station],
        mean,
        tuple(r["constituent"] for r in comps),
        np.array([float(r["amplitude_cm"]) / 100 for r in comps]),
        np.array([float(r["phase_deg_ref_utc"]) for r in comps]),
        convention="rws",
    )
    return constants, rows


def _hatyan(rows: list[dict[str, str]], times_s: np.ndarray) -> Callable[[], np.ndarray]:
    import hatyan  # the reference implementation (test extra)
    import pandas as pd

    comp = pd.DataFrame(
        {
            "A": [float(r["amplitude_cm"]) / 100 for r in rows],
            "phi_deg": [float(r["phase_deg_ref_utc_plus_1"]) for r in rows],
        },
        index=[r["constituent"] for r in rows],
    )
    comp.attrs.update(
        nodalfactors=True,
        xfac=True,
        fu_alltimes=False,
        source="schureman",
        tzone=dt.timezone(dt.timedelta(hours=1)),
    )
    times = pd.DatetimeIndex(pd.to_datetime(times_s, unit="s", utc=True))

    def predict() -> np.ndarray:
        return np.asarray(hatyan.prediction(comp, times=times)["values"], dtype=np.float64)

    return predict


def run() -> list[dict[str, object]]:
    """Prediction speed and agreement with hatyan; the fit's skill against the official tide."""
    official_rows = _rows("tide_prediction_vlissingen_2019_10min_rws.csv")
    t = np.array([_utc_s(r["time_utc"]) for r in official_rows])
    official = np.array([float(r["astronomical_tide_cm_nap"]) / 100 for r in official_rows])
    out: list[dict[str, object]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecations inside hatyan
        for station in LAT:
            constants, rows = _published(station)
            hatyan_predict = _hatyan(rows, t)
            reference = hatyan_predict()
            held = tide.predict(constants, t, nodal_at_centre=True)
            ours_ms = _best_ms(lambda c=constants: tide.predict(c, t, nodal_at_centre=True))
            hatyan_ms = _best_ms(hatyan_predict, 3)
            row: dict[str, object] = {
                "case": f"{station}: predict 2019 10-min, RWS set ({len(constants.names)})",
                "marine_watch_ms": ours_ms,
                "hatyan_ms": hatyan_ms,
                "speedup": hatyan_ms / ours_ms,
                "rms_vs_hatyan_cm": _rms_cm(held - reference),
                "rms_vs_hatyan_cm_nodal_every_sample": _rms_cm(
                    tide.predict(constants, t) - reference
                ),
            }
            if station == "VLISSGN":
                row["rms_vs_official_cm"] = _rms_cm(held - official)
            out.append(row)
    obs = _rows("tide_vlissingen_2009_2012_hourly.csv")
    t_obs = np.array([_utc_s(r["time_utc"]) for r in obs])
    h_obs = np.array([float(r["water_level_cm_nap"]) / 100 for r in obs])
    for convention in ("foreman", "rws"):
        fitted = tide.fit(t_obs, h_obs, LAT["VLISSGN"], convention=convention)
        out.append(
            {
                "case": f"VLISSGN: fit 2009-2012 hourly ({convention}, {len(fitted.names)}) -> 2019",
                "marine_watch_ms": _best_ms(
                    lambda c=convention: tide.fit(t_obs, h_obs, LAT["VLISSGN"], convention=c), 2
                ),
                "rms_vs_official_cm": _rms_cm(tide.predict(fitted, t) - official),
            }
        )
    return out


def main() -> None:
    """Print the rows."""
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
