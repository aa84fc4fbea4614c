"""Numerics commands: `tide fit` (CSV or a station's stored readings), `tide predict`, `overtopping`."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from marine_watch.settings import Settings

EXIT_OK, EXIT_USAGE = 0, 2


def add_numeric_commands(sub: Any) -> None:
    """Add the numerics commands (tide fit, tide predict, overtopping) to ``sub``."""
    tide_p = sub.add_parser("tide", help="harmonic tide analysis and prediction")
    tide_sub = tide_p.add_subparsers(title="tide commands", metavar="TIDE_COMMAND")
    fit = tide_sub.add_parser(
        "fit",
        help="fit constants to a CSV of time,value (metres) or to a station's stored readings",
        epilog="examples: marine-watch tide fit obs.csv --lat 30.6 -o c.json; "
        "marine-watch tide fit --station zhapu --from 2026-10-01 --to 2026-11-01 -o c.json",
    )
    fit.add_argument("input", type=Path, nargs="?", help="CSV file (or use --station)")
    fit.add_argument(
        "--station", help="read this station's tide_level readings from the configured store"
    )
    fit.add_argument("--from", dest="start", help="with --station: ISO 8601 start (UTC)")
    fit.add_argument("--to", dest="end", help="with --station: ISO 8601 end (UTC)")
    fit.add_argument(
        "--lat", type=float, help="station latitude, degrees N (default: the station's)"
    )
    fit.add_argument("-o", "--output", type=Path, required=True, help="constants JSON to write")
    fit.add_argument(
        "--convention",
        choices=["foreman", "schureman", "rws"],
        default="foreman",
        help="nodal convention (rws: Schureman with the Rijkswaterstaat x-factors)",
    )
    fit.add_argument("--time-col", default="time")
    fit.add_argument("--value-col", default="value")
    fit.set_defaults(func=_tide_fit)
    pred = tide_sub.add_parser("predict", help="predict from a constants JSON")
    pred.add_argument("constants", type=Path)
    pred.add_argument("--start", required=True, help="ISO 8601 (UTC unless an offset is given)")
    pred.add_argument("--end", required=True)
    pred.add_argument("--step", type=float, default=3600.0, help="seconds")
    pred.add_argument(
        "--nodal-at-centre",
        action="store_true",
        help="hold nodal corrections at mid-period, as Rijkswaterstaat's official predictions",
    )
    pred.add_argument("-o", "--output", type=Path, required=True, help="CSV to write (time,value)")
    pred.set_defaults(func=_tide_predict)

    ov = sub.add_parser(
        "overtopping", help="EurOtop 2018 mean overtopping discharge of a dike or wall (漫堤)"
    )
    ov.add_argument("--structure", choices=["sloping", "vertical"], required=True)
    ov.add_argument("--hm0", type=float, required=True, help="spectral wave height at the toe, m")
    ov.add_argument("--tm10", type=float, required=True, help="spectral period Tm-1,0, s")
    ov.add_argument("--freeboard", type=float, required=True, help="crest freeboard Rc, m")
    ov.add_argument(
        "--cot-alpha", type=float, default=None, help="seaward slope cot(alpha) (sloping)"
    )
    ov.add_argument(
        "--depth",
        type=float,
        default=None,
        help="water depth at the toe, m (vertical; default deep)",
    )
    ov.add_argument("--gamma-f", type=float, default=1.0, help="roughness factor")
    ov.add_argument("--gamma-b", type=float, default=1.0, help="berm factor")
    ov.add_argument("--gamma-beta", type=float, default=1.0, help="oblique-wave factor")
    ov.add_argument("--gamma-v", type=float, default=1.0, help="wall-on-slope factor")
    ov.add_argument("--mode", choices=["mean", "design"], default="design")
    ov.add_argument("--use", choices=["people", "vehicles", "property"], default="people")
    ov.add_argument("--json", action="store_true", help="print the JSON report")
    ov.set_defaults(func=_overtopping)


def _fail(message: str) -> int:
    sys.stderr.write(f"marine-watch: {message}\n")
    return EXIT_USAGE


def _iso_utc(text: str) -> datetime:
    """ISO 8601; a time without an offset is UTC (ValueError when not ISO 8601)."""
    parsed = datetime.fromisoformat(text.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_time(text: str) -> float:
    return _iso_utc(text).timestamp()


def _read_series(path: Path, time_col: str, value_col: str) -> tuple[np.ndarray, np.ndarray]:
    times, values = [], []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {time_col, value_col} - set(reader.fieldnames or ())
        if missing:
            msg = f"{path}: missing column(s) {sorted(missing)}; have {reader.fieldnames}"
            raise ValueError(msg)
        for i, row in enumerate(reader, start=2):
            try:
                times.append(_parse_time(row[time_col]))
            except ValueError:
                msg = f"{path}:{i}: {time_col}={row[time_col]!r} is not ISO 8601"
                raise ValueError(msg) from None
            raw = (row[value_col] or "").strip()
            values.append(float(raw) if raw and raw.lower() != "nan" else np.nan)
    return np.asarray(times), np.asarray(values)


def _tide_fit(args: argparse.Namespace) -> int:
    from risk_models import tide

    if (args.input is None) == (args.station is None):
        return _fail("tide fit: give either a CSV file or --station ID (with --from and --to)")
    try:
        if args.station is not None:
            times, values, lat = station_series(args.station, args.start, args.end)
            lat = args.lat if args.lat is not None else lat
        else:
            if args.lat is None:
                return _fail("tide fit: --lat is required with a CSV file")
            times, values = _read_series(args.input, args.time_col, args.value_col)
            lat = args.lat
        constants = tide.fit(times, values, lat, convention=args.convention)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    doc = {**constants.to_dict(), "source": _fit_source(args, times, values)}
    args.output.write_text(json.dumps(doc, indent=1, ensure_ascii=False))
    sys.stdout.write(
        f"fitted {len(constants.names)} constituents to {np.isfinite(values).sum()} values -> {args.output}\n"
    )
    return EXIT_OK


def _fit_source(args: argparse.Namespace, times: np.ndarray, values: np.ndarray) -> str:
    """Provenance written with fitted constants: what was fitted, over which period."""
    what = f"station {args.station}" if args.station is not None else str(args.input)
    span = [
        datetime.fromtimestamp(float(t), UTC).strftime("%Y-%m-%d %H:%M") for t in times[[0, -1]]
    ]
    n = int(np.isfinite(values).sum())
    return f"marine-watch tide fit of {what}: {n} values, {span[0]} to {span[1]} UTC"


def _tide_predict(args: argparse.Namespace) -> int:
    from risk_models import tide

    try:
        constants = tide.TideConstants.from_dict(json.loads(args.constants.read_text()))
        start, end = _parse_time(args.start), _parse_time(args.end)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    if end < start or args.step <= 0:
        return _fail("need --end after --start and a positive --step")
    times = np.arange(start, end + args.step / 2, args.step)
    values = tide.predict(constants, times, nodal_at_centre=args.nodal_at_centre)
    with args.output.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["time", "value"])
        for t, v in zip(times, values, strict=True):
            writer.writerow(
                [datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z"), f"{v:.4f}"]
            )
    sys.stdout.write(f"predicted {times.size} values -> {args.output}\n")
    return EXIT_OK


def _overtopping(args: argparse.Namespace) -> int:
    from risk_models.overtopping_walls import overtopping_report

    if args.structure == "sloping" and args.cot_alpha is None:
        return _fail("--cot-alpha is required for a sloping structure")
    try:
        report = overtopping_report(
            args.structure,
            args.hm0,
            args.tm10,
            args.freeboard,
            cot_alpha=args.cot_alpha,
            gamma_f=args.gamma_f,
            gamma_b=args.gamma_b,
            gamma_beta_=args.gamma_beta,
            gamma_v=args.gamma_v,
            depth_m=args.depth,
            mode=args.mode,
            use=args.use,
        )
    except ValueError as exc:  # includes OutsideValidity: outside the formula's range
        return _fail(f"overtopping: {exc}")
    body = report.to_dict()
    if args.json:
        sys.stdout.write(json.dumps(body, indent=1) + "\n")
    else:
        sys.stdout.write(
            f"q = {body['q_l_per_s_per_m']:.3g} l/s per m ({body['q']:.3g} m3/s per m), "
            f"level {body['level']} ({body['colour']}), EurOtop 2018 eq. {body['formula']}, {body['validity']}\n"
        )
    return EXIT_OK


CHUNK = timedelta(days=7)  # one store query per week of record: the progress bar moves


def _utc(text: str | None, name: str) -> datetime:
    if not text:
        msg = f"tide fit --station needs --{name} (ISO 8601, e.g. 2026-10-01T00:00:00Z)"
        raise ValueError(msg)
    try:
        return _iso_utc(text)
    except ValueError:
        msg = f"--{name} {text!r} is not ISO 8601 (e.g. 2026-10-01T00:00:00Z)"
        raise ValueError(msg) from None


def station_series(
    station_id: str, start_text: str | None, end_text: str | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Times (epoch s), tide levels (m, 1985 datum) and latitude of a station's stored readings."""
    start, end = _utc(start_text, "from"), _utc(end_text, "to")
    if end <= start:
        msg = f"--to {end_text!r} must be after --from {start_text!r}"
        raise ValueError(msg)
    from marine_watch.coast import load_catalogue
    from marine_watch.settings import load_settings

    settings = load_settings()
    station = load_catalogue(settings.config_dir).station(station_id)
    if station is None:
        msg = f"unknown station {station_id!r} (see config/stations.toml)"
        raise ValueError(msg)
    times, values = asyncio.run(_query(settings, station_id, start, end))
    if times.size == 0:
        msg = f"no tide_level readings of {station_id!r} in the {settings.store} store between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
        raise ValueError(msg)
    return times, values - station.gauge_to_85_m, station.lat


async def _query(
    settings: Settings, station_id: str, start: datetime, end: datetime
) -> tuple[np.ndarray, np.ndarray]:
    from marine_watch.store.factory import open_configured_store

    times: list[float] = []
    values: list[float] = []
    chunks = max(1, int(np.ceil((end - start) / CHUNK)))
    async with open_configured_store(settings) as store:
        from rich.progress import BarColumn, Progress, TimeRemainingColumn

        with Progress(
            "[progress.description]{task.description}", BarColumn(), TimeRemainingColumn()
        ) as bar:
            task = bar.add_task(f"reading {station_id} from {settings.store}", total=chunks)
            lo = start
            while lo < end:
                hi = min(lo + CHUNK, end)
                points = await store.query(
                    station_id,
                    "tide_level",
                    int(lo.timestamp() * 1e9),
                    int(hi.timestamp() * 1e9),
                    limit=1_000_000,
                )
                times.extend(p.ts_ns / 1e9 for p in points if p.qc == "ok")
                values.extend(p.value for p in points if p.qc == "ok")
                bar.advance(task)
                lo = hi
    return np.asarray(times), np.asarray(values)
