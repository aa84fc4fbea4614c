"""Numerics commands: `tide fit`, `tide predict`, `overtopping` (contracts in the risk_models issue)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

EXIT_OK, EXIT_USAGE = 0, 2


def add_numeric_commands(sub: Any) -> None:
    tide_p = sub.add_parser("tide", help="harmonic tide analysis and prediction")
    tide_sub = tide_p.add_subparsers(title="tide commands", metavar="TIDE_COMMAND")
    fit = tide_sub.add_parser("fit", help="fit constants to a CSV of time,value (metres)")
    fit.add_argument("input", type=Path)
    fit.add_argument("--lat", type=float, required=True, help="station latitude, degrees N")
    fit.add_argument("-o", "--output", type=Path, required=True, help="constants JSON to write")
    fit.add_argument("--time-col", default="time")
    fit.add_argument("--value-col", default="value")
    fit.set_defaults(func=_tide_fit)
    pred = tide_sub.add_parser("predict", help="predict from a constants JSON")
    pred.add_argument("constants", type=Path)
    pred.add_argument("--start", required=True, help="ISO 8601 (UTC unless an offset is given)")
    pred.add_argument("--end", required=True)
    pred.add_argument("--step", type=float, default=3600.0, help="seconds")
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


def _parse_time(text: str) -> float:
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


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

    try:
        times, values = _read_series(args.input, args.time_col, args.value_col)
        constants = tide.fit(times, values, args.lat)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    args.output.write_text(json.dumps(constants.to_dict(), indent=1))
    sys.stdout.write(
        f"fitted {len(constants.names)} constituents to {np.isfinite(values).sum()} values -> {args.output}\n"
    )
    return EXIT_OK


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
    values = tide.predict(constants, times)
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
