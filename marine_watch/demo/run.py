"""`marine-watch demo`: an embedded broker, SQLite, a simulated typhoon and the API, in one process.

The scenario clock starts ``lead_hours`` before the top of the last spring tide at the first tide
station and runs ``speed`` times faster than the wall clock; the In-Fa-like surge peaks on that high
water (sensors/simulate.py). Everything shown carries scenario time.

Stopping: SIGINT (Ctrl-C: the terminal sends it to the whole foreground process group) and SIGTERM
both stop the API (in-flight requests get 5 s), the workers and the store, then the broker, and the
process exits 0. A second signal cuts the API's grace period short. The Mosquitto child sits in a
session of its own, so a Ctrl-C reaches the demo and not the broker under it, and it is started with
a parent-death signal: if the demo is killed outright, the kernel stops the broker too.

The broker is Mosquitto with freshly generated accounts (docs/SECURITY.md), as in production: the
simulated stations publish on the field listener (``--broker-port``, 1884 by default), each with
its own station account; the service uses its own account on a listener of its own (a free port).
Nobody connects anonymously; ``replay`` reaches the demo with ``--accounts`` (the banner says how).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import sys
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
import uvicorn

from marine_watch import logs

if TYPE_CHECKING:
    from marine_watch.mqtt.broker import EmbeddedBroker
    from marine_watch.settings import Settings

log = structlog.get_logger(__name__)
BROKER_PORT = (
    1884  # the field listener, next to MQTT's 1883, which a machine's own broker often holds
)
CLIENT_ID = "marine-watch-demo"
GRACE_S = 5
LEAD_HOURS = 12.0  # the storm is still far: the coast starts calm
REPLAY_EXAMPLE = (
    "marine-watch replay reference/tide_vlissingen_2018q1_10min_matroos.csv --station zhapu "
    "--time-col time_utc --value-col water_level_m --speed 0"
)  # + --broker and --accounts of the running demo


class DemoServer(uvicorn.Server):
    """uvicorn without signal handlers of its own: the demo owns SIGINT and SIGTERM.

    uvicorn would re-raise a captured signal once it has stopped, killing the process before the
    broker under it is stopped.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Install no signal handlers: the demo owns SIGINT and SIGTERM."""
        yield


def add_arguments(demo: argparse.ArgumentParser) -> None:
    """Add the options of ``marine-watch demo`` to its parser."""
    demo.add_argument(
        "--speed", type=float, default=180.0, help="scenario seconds per real second (default 180)"
    )
    demo.add_argument(
        "--lead-hours",
        type=float,
        default=LEAD_HOURS,
        help=f"scenario hours before the surge peaks on the spring high water (default {LEAD_HOURS:g})",
    )
    demo.add_argument("--seed", type=int, default=2021)
    demo.add_argument(
        "--port", type=int, default=None, help="HTTP port (default MARINE_WATCH_HTTP_PORT or 8000)"
    )
    demo.add_argument(
        "--broker-port",
        type=int,
        default=BROKER_PORT,
        help=f"the embedded broker's loopback port for stations and `replay` (default {BROKER_PORT}; "
        "0 = any free port)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C or SIGTERM; the exit code."""
    logs.configure()
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from marine_watch.coast import load_catalogue
    from marine_watch.mqtt.broker import embedded_broker, free_port, port_is_free
    from marine_watch.settings import load_settings

    stop = asyncio.Event()
    server: DemoServer | None = None

    def on_signal(sig: signal.Signals) -> None:
        log.info("demo_stopping", signal=sig.name)
        if stop.is_set() and server is not None:
            server.force_exit = True  # a second signal: do not wait for open connections
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        broker_port = args.broker_port or free_port()
        if not port_is_free("127.0.0.1", broker_port):
            sys.stderr.write(
                f"marine-watch: demo: port {broker_port} is taken; use --broker-port PORT (0: any)\n"
            )
            return 2
        base = load_settings(mqtt_client_id=CLIENT_ID)
        data_dir = base.data_dir / "demo"
        shutil.rmtree(data_dir, ignore_errors=True)  # every demo starts from a calm, empty coast
        stations = [s.id for s in load_catalogue(base.config_dir).stations]
        async with embedded_broker(base, stations, data_dir, port=broker_port) as broker:
            config = _build(args, broker, data_dir)
            server = DemoServer(config)
            serving = asyncio.create_task(server.serve(), name="http")
            stopping = asyncio.create_task(stop.wait(), name="stop")
            await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
            server.should_exit = True
            stopping.cancel()
            await serving
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log.info("demo_stopped")
    return 0


def _build(args: argparse.Namespace, broker: EmbeddedBroker, data_dir: Path) -> uvicorn.Config:
    """Settings, scenario and app on the running broker; print how to use them."""
    from marine_watch.app import create_app, server_options
    from marine_watch.clock import ScaledClock, WallClock
    from marine_watch.coast import load_catalogue, load_constants
    from marine_watch.demo.simulator import new_simulator, publish_forever
    from marine_watch.mqtt.client import MqttEndpoint
    from marine_watch.settings import load_settings
    from sensors.simulate import Typhoon, last_spring_high_water

    overrides: dict[str, object] = {
        # the service on its own listener with its account; the stations publish with theirs
        "mqtt_url": f"mqtt://{broker.host}:{broker.service_port}",
        "mqtt_username": broker.accounts.service.username,
        "mqtt_password": broker.accounts.service.password,
        "mqtt_password_file": None,
        "mqtt_protocol": broker.protocol,
        "mqtt_client_id": CLIENT_ID,
        "store": "sqlite",
        "data_dir": data_dir,
        "risk_tick_s": 1.0,
        "environment": "demo",  # accepts the published demo keys (refused anywhere else)
        "webhook_allow_networks": ("127.0.0.0/8", "::1/128"),  # receivers on this machine
    }
    if args.port is not None:
        overrides["http_port"] = args.port
    settings = load_settings(**overrides)
    catalogue = load_catalogue(settings.config_dir)
    constants = load_constants(settings, catalogue)
    peak = last_spring_high_water(next(iter(constants.values())), WallClock().now())
    storm = Typhoon(peak_s=peak)
    clock = ScaledClock(peak - args.lead_hours * 3600.0, args.speed)
    simulator = new_simulator(catalogue, constants, storm, args.seed)

    async def simulate(_services: object) -> None:
        await publish_forever(
            MqttEndpoint(broker.host, broker.port, protocol=broker.protocol),
            settings.mqtt_topic_root,
            simulator,
            clock,
            accounts=broker.accounts.stations,
        )

    app = create_app(settings, clock=clock, workers=(("simulator", simulate),), tune_gc=True)
    sys.stderr.write(banner(args, broker, settings, clock.start_s, peak))
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        timeout_graceful_shutdown=GRACE_S,
        **server_options(settings),
    )


def banner(
    args: argparse.Namespace, broker: EmbeddedBroker, settings: Settings, start: float, peak: float
) -> str:
    """What the demo runs and how to reach it, broker included."""
    from marine_watch.settings import DEMO_KEYS

    when = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d %H:%M UTC")
    replay = f"{REPLAY_EXAMPLE} --broker {broker.url} --accounts {broker.accounts_file}"
    keys = ", ".join(f"{r}={k}" for r, k in DEMO_KEYS.items())
    return (
        f"\nmarine_watch demo: http://{settings.http_host}:{settings.http_port}/ (dashboard), "
        "/resident, /docs, /redoc\n"
        f"  scenario: from {when}, {args.speed:g}x real time; the typhoon surge peaks on the spring "
        f"high water in ~{(peak - start) / args.speed / 60:.1f} min. Ctrl-C stops.\n"
        f"  broker: Mosquitto with generated accounts, stations on {broker.url}, the service on "
        f":{broker.service_port} (loopback; accounts in {broker.accounts_file}); "
        f"store: SQLite in {settings.data_dir}\n"
        f"  replay a record into it from another terminal, with the station's account:\n"
        f"    {replay}\n"
        f"  demo API keys (X-API-Key header; websockets: header or first message): {keys}\n\n"
    )
