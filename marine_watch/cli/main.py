"""The `marine-watch` command: serve, demo, simulate, replay, check-config (and the numerics commands).

Exit codes: 0 ok, 1 runtime failure, 2 bad input or configuration (the message says what to fix).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from marine_watch import logs
from marine_watch.errors import ConfigError

if TYPE_CHECKING:
    from marine_watch.mqtt.client import Account, MqttEndpoint
    from marine_watch.settings import Settings

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``marine-watch`` command line; the exit code (0 ok, 1 failure, 2 usage or config)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except ConfigError as exc:
        sys.stderr.write(f"marine-watch: configuration error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marine-watch", description="Marine-disaster monitoring and risk codes."
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the service against the configured broker and store (MARINE_WATCH_* settings)",
    )
    serve.set_defaults(func=_serve)

    demo = sub.add_parser(
        "demo",
        help="run everything embedded: broker, SQLite store, simulated typhoon, API on :8000",
        description="An embedded broker, a SQLite store and a time-compressed typhoon whose surge "
        "peaks on a spring high water, served on the API and the pages. It prints how to reach the "
        "broker (for `replay`). Ctrl-C or SIGTERM stops it (exit 0).",
    )
    from marine_watch.demo.run import add_arguments

    add_arguments(demo)
    demo.set_defaults(func=_demo)

    sim = sub.add_parser("simulate", help="publish a simulated coast to the configured broker")
    sim.add_argument(
        "--typhoon",
        action="store_true",
        help="add a typhoon surge peaking at the next big high water",
    )
    sim.add_argument("--seed", type=int, default=1)
    _station_link_options(sim)
    sim.set_defaults(func=_simulate)

    replay = sub.add_parser(
        "replay",
        help="publish a historical CSV record over MQTT through the live pipeline",
        description="Publish a CSV record (time, value) as readings of one station to the configured "
        "broker and topic root, paced at --speed, with a progress bar. Historic timestamps are kept.",
        epilog="example: marine-watch replay reference/tide_vlissingen_2018q1_10min_matroos.csv "
        "--station zhapu --time-col time_utc --value-col water_level_m --speed 3600 "
        "--broker mqtt://127.0.0.1:1884 --accounts data/demo/mosquitto/accounts.json "
        "(into `marine-watch demo`, with Zhapu's station account)",
    )
    replay.add_argument("file", type=Path, help="CSV file with a header row")
    replay.add_argument("--station", required=True, help="station id from config/stations.toml")
    replay.add_argument("--kind", default="tide_level", help="reading kind (default tide_level)")
    replay.add_argument(
        "--speed",
        type=float,
        default=600.0,
        help="record seconds per real second (default 600; 0 = as fast as possible)",
    )
    replay.add_argument("--time-col", default="time", help="time column (ISO 8601 or epoch s)")
    replay.add_argument("--value-col", default="value", help="value column")
    replay.add_argument(
        "--unit-scale",
        type=float,
        default=1.0,
        help="multiply values by this to reach the kind's unit (e.g. 0.01 for cm to m)",
    )
    _station_link_options(replay)
    replay.set_defaults(func=_replay)

    hindcast = sub.add_parser(
        "hindcast",
        help="replay a real storm record through the live pipeline and score its warnings",
        description="Run a storm case (config/hindcast/*.toml, docs/HINDCAST.md) through the "
        "pipeline's own code on a simulated clock, as fast as it goes, and write summary.json, "
        "timeline.csv and a plot per gauge to --out. --list shows the shipped cases; --skill "
        "scores every case with every forecast method.",
        epilog="example: marine-watch hindcast juan-2003 --out hindcast-juan --forecast persistence",
    )
    hindcast.add_argument("case", nargs="?", help="case name (see --list) or path of a case file")
    hindcast.add_argument("--list", action="store_true", help="list the shipped storm cases")
    hindcast.add_argument("--out", type=Path, help="folder for summary.json, timeline.csv, plots")
    hindcast.add_argument(
        "--forecast",
        choices=["observed", "persistence", "trend"],
        default=None,
        help="surge forecast method (default: rules.surge_forecast of config/thresholds.toml)",
    )
    hindcast.add_argument(
        "--tick",
        type=float,
        default=600.0,
        help="seconds of simulated time between evaluations without a reading (default 600)",
    )
    hindcast.add_argument(
        "--skill",
        action="store_true",
        help="print the skill table: lead times and false alarms of every method on every case",
    )
    hindcast.set_defaults(func=_hindcast)

    check = sub.add_parser(
        "check-config", help="load settings and config/ and report problems (exit 2) or a summary"
    )
    check.set_defaults(func=_check_config)

    parts = sub.add_parser(
        "check-partitions",
        help="print and check the ingest partition map against config/stations.toml (exit 2 on a "
        "station covered twice or never)",
    )
    parts.add_argument(
        "--nodes",
        type=int,
        default=None,
        help="the hash partition k/N for N nodes (MARINE_WATCH_INGEST_PARTITION=k/N); without it, "
        "config/ingest_partitions.toml",
    )
    parts.set_defaults(func=_check_partitions)

    from marine_watch.cli.numerics import add_numeric_commands

    add_numeric_commands(sub)
    from marine_watch.mqtt.accounts import add_accounts_command

    add_accounts_command(sub)
    return parser


def _station_link_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--broker",
        metavar="URL",
        help="the stations' listener, mqtt(s)://host:port (default MARINE_WATCH_MQTT_URL)",
    )
    cmd.add_argument(
        "--accounts",
        type=Path,
        metavar="FILE",
        help="accounts.json of `marine-watch mqtt-accounts`: publish with the station accounts",
    )


def _station_links(
    args: argparse.Namespace, settings: Settings
) -> tuple[MqttEndpoint, dict[str, Account] | None]:
    from marine_watch.mqtt.accounts import load_accounts
    from marine_watch.mqtt.client import MqttEndpoint
    from marine_watch.settings import split_mqtt_urls

    url = split_mqtt_urls(args.broker or settings.mqtt_url)[0]  # a cluster: its first member
    endpoint = MqttEndpoint.from_url(
        url, ca_file=settings.mqtt_ca_file, protocol=settings.mqtt_protocol
    )
    accounts = None if args.accounts is None else load_accounts(args.accounts).stations
    return endpoint, accounts


def _serve(_args: argparse.Namespace) -> int:
    from marine_watch.app import create_app, server_options
    from marine_watch.settings import load_settings

    logs.configure()
    settings = load_settings()
    app = create_app(settings, tune_gc=True)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        **server_options(settings),
    )
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from marine_watch.demo import run as demo

    return demo.run(args)


def _simulate(args: argparse.Namespace) -> int:
    from marine_watch.clock import WallClock
    from marine_watch.coast import load_catalogue, load_constants
    from marine_watch.demo.simulator import new_simulator, publish_forever, typhoon_for
    from marine_watch.settings import load_settings

    logs.configure()
    settings = load_settings()
    catalogue = load_catalogue(settings.config_dir)
    constants = load_constants(settings, catalogue)
    clock = WallClock()
    storm = typhoon_for(catalogue, constants, clock.now(), 2.0) if args.typhoon else None
    simulator = new_simulator(catalogue, constants, storm, args.seed)
    endpoint, accounts = _station_links(args, settings)
    asyncio.run(
        publish_forever(endpoint, settings.mqtt_topic_root, simulator, clock, accounts=accounts)
    )
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    import aiomqtt
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from marine_watch.coast import load_catalogue
    from marine_watch.demo import csv_replay as replay
    from marine_watch.mqtt.client import config_failure
    from marine_watch.settings import load_settings

    if args.speed < 0:
        sys.stderr.write("marine-watch: --speed must be 0 (as fast as possible) or positive\n")
        return EXIT_USAGE
    settings = load_settings()
    try:
        kind = replay.check_target(load_catalogue(settings.config_dir), args.station, args.kind)
        series = replay.read_series(args.file, args.time_col, args.value_col, args.unit_scale)
    except replay.ReplayError as exc:
        sys.stderr.write(f"marine-watch: replay: {exc}\n")
        return EXIT_USAGE
    messages = replay.batches(series, kind, args.speed)
    topic = f"{settings.mqtt_topic_root}/{args.station}/batch"
    endpoint, accounts = _station_links(args, settings)
    account = None if accounts is None else accounts.get(args.station)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task(
            f"{args.station}/{kind.value} → {endpoint.host}:{endpoint.port}",
            total=len(series.values),
        )
        try:
            sent = asyncio.run(
                replay.publish(
                    endpoint,
                    topic,
                    messages,
                    account=account,
                    progress=lambda n: bar.update(task, completed=n),
                )
            )
        except (aiomqtt.MqttError, OSError) as exc:  # the broker is not reachable or refused us
            fix = config_failure(exc)
            hint = f" ({fix})" if fix else ""
            sys.stderr.write(
                f"marine-watch: replay: broker {endpoint.host}:{endpoint.port}: {exc}{hint}\n"
            )
            return EXIT_FAIL
    skipped = f" ({series.skipped} empty rows skipped)" if series.skipped else ""
    sys.stdout.write(f"replayed {sent} readings to {topic}{skipped}\n")
    return EXIT_OK


def _hindcast(args: argparse.Namespace) -> int:
    from marine_watch.cli.hindcast import run_command

    return run_command(args)


def _check_config(_args: argparse.Namespace) -> int:
    from marine_watch.alerts.teams import load_teams
    from marine_watch.coast import load_catalogue, load_constants
    from marine_watch.settings import load_settings

    settings = load_settings()
    catalogue = load_catalogue(settings.config_dir)
    constants = load_constants(settings, catalogue)
    samples = sum(s.sample for s in catalogue.stations)
    from marine_watch.hindcast.run import HindcastError, list_cases

    try:
        cases = list_cases(settings.config_dir)
    except HindcastError as exc:  # a broken storm case is a broken config file
        raise ConfigError(settings.config_dir / "hindcast", "-", str(exc)) from None
    teams = load_teams(
        settings.teams_file or settings.config_dir / "teams.toml", {z.id for z in catalogue.zones}
    )
    delays = ", ".join(f"{t.value} {d:g} s" for t, d in teams.escalation.delay_s.items())
    mail = (
        f"SMTP {settings.smtp_host}:{settings.smtp_port} (STARTTLS)"
        if settings.smtp_host
        else "off"
    )
    sys.stdout.write(
        f"config ok: {Path(settings.config_dir).resolve()}\n"
        f"  stations: {len(catalogue.stations)} ({samples} SAMPLE), tide constants: {len(constants)}\n"
        f"  zones: {len(catalogue.zones)}, dike segments: {len(catalogue.segments)}, shelters: {len(catalogue.shelters)}\n"
        f"  qc: ranges for {len(catalogue.qc.range)} kinds, spike limits for {len(catalogue.qc.spike.limit)} ({catalogue.qc.status})\n"
        f"  storm cases (hindcast): {len(cases)}, surge forecast: {catalogue.rules.surge_forecast}\n"
        f"  store: {settings.store}, broker: {settings.mqtt_url}, http: {settings.http_host}:{settings.http_port}\n"
        f"  teams: {len(teams.teams)}, escalation after {delays or 'never'} ({teams.escalation.status}), e-mail: {mail}\n"
    )
    return EXIT_OK


def _check_partitions(args: argparse.Namespace) -> int:
    from marine_watch.coast import load_catalogue
    from marine_watch.ingest.partition import MAP_FILE, MAX_PARTS, hash_map, load_map, problems
    from marine_watch.settings import load_settings

    settings = load_settings()
    stations = [s.id for s in load_catalogue(settings.config_dir).stations]
    if args.nodes is not None:
        if not 1 <= args.nodes <= MAX_PARTS:
            sys.stderr.write(f"marine-watch: check-partitions: --nodes must be 1..{MAX_PARTS}\n")
            return EXIT_USAGE
        parts, source = hash_map(stations, args.nodes), f"hash of station ids, {args.nodes} nodes"
    else:
        parts, source = load_map(settings.config_dir), str(settings.config_dir / MAP_FILE)
    sys.stdout.write(f"ingest partitions ({source}):\n")
    for name, members in parts.items():
        sys.stdout.write(f"  {name}: {', '.join(members) or '(none)'}\n")
    found = problems(parts, stations)
    empty = [name for name, members in parts.items() if not members]
    if empty:
        found.append(f"no station in {', '.join(empty)} (that node would refuse to start)")
    for problem in found:
        sys.stderr.write(f"marine-watch: check-partitions: {problem}\n")
    if found:
        return EXIT_USAGE
    sys.stdout.write(f"every one of {len(stations)} stations in exactly one partition\n")
    return EXIT_OK
