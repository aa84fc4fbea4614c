"""`marine-watch hindcast`: list the storm cases, run one, or score them all (docs/HINDCAST.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from marine_watch import logs
from marine_watch.hindcast import run as hindcast

EXIT_OK, EXIT_USAGE = 0, 2
MIN_TICK_S, MAX_TICK_S = 60.0, 3600.0


def _fail(message: str) -> int:
    sys.stderr.write(f"marine-watch: hindcast: {message}\n")
    return EXIT_USAGE


def _bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
    )


def run_command(args: argparse.Namespace) -> int:
    """``marine-watch hindcast``: list the cases, run one, or score the forecast skill."""
    from marine_watch.coast import load_catalogue
    from marine_watch.settings import load_settings

    logs.configure("WARNING")  # the pipeline logs every colour change: too much for a replay
    if not MIN_TICK_S <= args.tick <= MAX_TICK_S:
        return _fail(f"--tick must be between {MIN_TICK_S:g} and {MAX_TICK_S:g} s")
    config_dir = load_settings().config_dir
    try:
        if args.list:
            return _list(config_dir)
        base = load_catalogue(config_dir)
        method = args.forecast or base.rules.surge_forecast
        root = hindcast.repo_root(config_dir)
        if args.skill:
            return _skill(config_dir, base, root, args.tick)
        if not args.case or args.out is None:
            return _fail("give a case (see --list) and --out DIR, or --list, or --skill")
        path, case = hindcast.find_case(args.case, config_dir)
        with _bar() as bar:
            task = bar.add_task(f"{case.name} ({method})", total=None)
            out = hindcast.run_sync(
                case, base, root, method, tick_s=args.tick, progress=_advance(bar, task)
            )
        doc = hindcast.write_outputs(out, args.out, _shown(path, root))
    except hindcast.HindcastError as exc:
        return _fail(str(exc))
    sys.stdout.write(_summary_text(doc, args.out))
    return EXIT_OK


def _advance(bar: Progress, task: object) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)  # type: ignore[arg-type]

    return update


def _shown(path: Path, root: Path) -> str:
    """A case file's path inside the repository when it is in it (never a machine path)."""
    resolved = path.resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else path.name


def _list(config_dir: Path) -> int:
    cases = hindcast.list_cases(config_dir)
    root = hindcast.repo_root(config_dir)
    for path, case in cases:
        sys.stdout.write(
            f"{case.name:22s} {case.title}\n"
            f"{'':22s} {hindcast.iso(case.start_s)} to {hindcast.iso(case.end_s)}; "
            f"case file {_shown(path, root)}\n"
        )
        for g in case.gauges:
            sys.stdout.write(
                f"{'':22s} gauge {g.station}: {g.file} ({g.value_column} x {g.metres_per_unit:g} m, "
                f"{g.datum}), levels {g.thresholds_m.status}\n"
            )
    if not cases:
        sys.stdout.write(f"no case files in {hindcast.cases_dir(config_dir)}\n")
    return EXIT_OK


def _hours(seconds: object) -> str:
    return "–" if not isinstance(seconds, int | float) else f"{seconds / 3600:+.1f} h"


def _summary_text(doc: dict[str, object], out_dir: Path) -> str:
    lines = [
        f"{doc['case']} ({doc['forecast']}): {doc['alerts']} alerts raised, "
        f"{doc['false_alarms']} false alarms, {doc['missed']} missed"
    ]
    for g in doc["gauges"]:  # type: ignore[attr-defined]
        lines.append(f"  {g['station']}: colour, level m, reached, warned from, lead")
        for colour, level in g["thresholds_m"].items():
            lines.append(
                f"    {colour:7s} {level:5.2f}  {g['observed_exceedance'][colour] or '–':21s}"
                f"  {g['first_raised'][colour] or '–':21s}  {_hours(g['lead_time_s'][colour])}"
            )
    lines.append(f"wrote {out_dir}/summary.json, timeline.csv, {', '.join(doc['plots'])}")  # type: ignore[arg-type]
    return "\n".join(lines) + "\n"


def skill_rows(
    config_dir: Path,
    base: object,
    root: Path,
    tick_s: float,
    progress: Callable[[str], None] = lambda _name: None,
) -> list[dict[str, object]]:
    """Every shipped case with every method: the summary documents, in case then method order."""
    rows = []
    for path, case in hindcast.list_cases(config_dir):
        for method in hindcast.METHODS:
            progress(f"{case.name} ({method})")
            out = hindcast.run_sync(case, base, root, method, tick_s=tick_s)  # type: ignore[arg-type]
            rows.append(hindcast.summary(out, _shown(path, root)))
    return rows


def skill_table(rows: list[dict[str, object]]) -> str:
    """One Markdown table per case: lead time per colour, alerts, false alarms, missed."""
    text = []
    for case in dict.fromkeys(str(r["case"]) for r in rows):
        mine = [r for r in rows if r["case"] == case]
        g0 = mine[0]["gauges"][0]  # type: ignore[index]
        reached = ", ".join(
            f"{c} {t:.2f} m {('at ' + g0['observed_exceedance'][c]) if g0['observed_exceedance'][c] else 'not reached'}"
            for c, t in g0["thresholds_m"].items()
        )
        text += [
            f"**{mine[0]['title']}** ({g0['station']}, levels {g0['thresholds_status']}; "
            f"observed: {reached})",
            "",
            "| forecast | lead blue | lead yellow | lead orange | lead red | alerts | false alarms | missed |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in mine:
            g = r["gauges"][0]  # type: ignore[index]
            leads = " | ".join(_hours(g["lead_time_s"][c]) for c in hindcast.COLOURS)
            text.append(
                f"| {r['forecast']} | {leads} | {r['alerts']} | {r['false_alarms']} | {r['missed']} |"
            )
        text.append("")
    return "\n".join(text)


def _skill(config_dir: Path, base: object, root: Path, tick_s: float) -> int:
    n = len(hindcast.list_cases(config_dir)) * len(hindcast.METHODS)
    with _bar() as bar:
        task = bar.add_task("skill", total=n)

        def step(name: str) -> None:
            bar.update(task, description=name, advance=1)

        rows = skill_rows(config_dir, base, root, tick_s, step)
    sys.stdout.write(skill_table(rows))
    return EXIT_OK
