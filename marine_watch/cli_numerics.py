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
