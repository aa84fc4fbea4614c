"""The application: create_app(settings) and a lifespan that owns every resource and task.

The AsyncExitStack unwinds in reverse: stop intake, drain the writer, flush the store, close. A
worker that crashes calls ``on_fatal`` (SIGTERM in production), so the API never serves as a zombie.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypedDict

import structlog
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from marine_watch import logs
from marine_watch.api import register_routes
from marine_watch.api.nodes import RoleLimit
from marine_watch.auth.rate_limits import ClientCaps, RateLimiter
from marine_watch.clock import Clock, WallClock
from marine_watch.coast import load_catalogue, load_constants
from marine_watch.errors import ConfigError, StoreError
from marine_watch.hub import Hub
from marine_watch.ingest.dead_letters import DeadLetters
from marine_watch.ingest.partition import stations_of
from marine_watch.ingest.subscriber import Ingest, IngestDeps
from marine_watch.ingest.writer import Delivery, Writer
from marine_watch.inputs.road_notes import RoadNotes
from marine_watch.metrics import Metrics
from marine_watch.mqtt.client import Brokers
from marine_watch.risk.pipeline import Pipeline
from marine_watch.risk.regions import restrict
from marine_watch.risk.zones import ZoneIndex
from marine_watch.services import Job, Services, open_api_features, open_features
from marine_watch.settings import Settings
from marine_watch.store.factory import open_configured_store
from marine_watch.store.spool import Spool
from risk_models import tide
from sensors.catalogue import Catalogue
from sensors.reading import Block, Reading

log = structlog.get_logger(__name__)

Worker = Callable[["Services"], Awaitable[None]]
DOCS_ASSETS = "/docs-assets"  # Swagger UI and ReDoc scripts, styles and icon


def terminate(exc: BaseException) -> None:
    """Production on_fatal: ask uvicorn for a graceful shutdown."""
    del exc
    signal.raise_signal(signal.SIGTERM)


async def supervised(
    name: str, coro: Awaitable[None], on_fatal: Callable[[BaseException], None]
) -> None:
    """Run a worker; a crash is a bug: log it and stop the service."""
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("worker_crashed", worker=name)
        on_fatal(exc)
        raise


WS_MAX_MESSAGE_BYTES = 64 * 1024  # a bigger websocket message is closed with 1009 by the server


class ServerOptions(TypedDict):
    """uvicorn.Config's keyword arguments this app sets (checked against its signature)."""

    log_config: None
    ws_per_message_deflate: bool
    ws_max_size: int
    proxy_headers: bool
    forwarded_allow_ips: str | None
    backlog: int


def server_options(settings: Settings) -> ServerOptions:
    """uvicorn's options for this app (serve, demo and the tests run the same server)."""
    return {
        "log_config": None,
        "ws_per_message_deflate": False,
        "ws_max_size": WS_MAX_MESSAGE_BYTES,
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips or None,
        "backlog": settings.http_backlog,
    }


GC_YOUNG_THRESHOLD = 10_000  # allocations between two young collections (CPython's default: 700)


def settle_heap() -> None:
    """Once started: what start-up built out of the cyclic collector's sight, young passes rarer.

    Every full pass of the collector walks every tracked object, and start-up leaves about 100,000
    (modules, the app and its routes, the catalogue) that never become garbage; each websocket
    adds objects, so a storm of clients triggers full passes one after another. Measured on a
    connect storm of 4,000 websockets: the collector took about half of the node's CPU time per
    connection (BENCHMARKS.md, "The connect storm, measured apart"). ``gc.freeze`` (the CPython
    documentation's advice for long-lived start-up objects) moves them to a generation the
    collector skips.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    on_fatal: Callable[[BaseException], None] = terminate,
    workers: tuple[tuple[str, Worker], ...] = (),
    tune_gc: bool = False,
) -> FastAPI:
    """Build the app; nothing starts until the lifespan runs.

    ``tune_gc``: :func:`settle_heap` once started, undone at shutdown (``marine-watch serve``, the
    demo: one app per process).
    """
    logs.register_secrets(settings.secrets())
    logs.quiet_websocket_connections(not settings.log_ws_connections)
    logs.install_position_filter()
    everything = load_catalogue(settings.config_dir)
    catalogue = everything
    if settings.regions:  # a regional risk node evaluates its part of the coast
        try:
            catalogue = restrict(everything, settings.regions)
        except ValueError as exc:
            where = "env MARINE_WATCH_REGIONS"
            raise ConfigError(where, "regions", str(exc)) from None
    elsewhere = everything.station_ids - catalogue.station_ids
    constants = load_constants(settings, catalogue)
    partition = (
        None
        if settings.ingest_partition is None
        else stations_of(
            settings.ingest_partition,
            settings.config_dir,
            [station.id for station in catalogue.stations],
        )
    )
    the_clock = clock or WallClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Services]]:
        async with AsyncExitStack() as stack:
            services = await _open_services(
                stack,
                settings,
                catalogue,
                constants,
                the_clock,
                elsewhere=elsewhere,
                partition=partition,
            )
            if settings.node_role == "api":  # answers from the retained risk topics only
                jobs = await open_api_features(stack, services)
            else:
                jobs = await open_features(stack, services)
                await warm_start(services)
            app.state.services = services
            tasks = _start_workers(services, jobs, workers, on_fatal)
            if tune_gc:
                settle_heap()
                stack.callback(gc.unfreeze)  # what start-up built may become garbage from here
            try:
                yield {"services": services}
            finally:
                await _shutdown(tasks, services)

    # /docs and /redoc from assets in the fastapi-offline package: they render with no internet.
    app = FastAPIOffline(
        title="marine_watch",
        version="0.1.0",
        summary="Marine-disaster monitoring and blue/yellow/orange/red risk codes.",
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},  # no spec check against an outside validator
    )
    register_routes(app)
    if settings.node_role in ("ingest", "api"):
        app.add_middleware(RoleLimit, role=settings.node_role)
    return app


def _start_workers(
    services: Services,
    jobs: list[Job],
    workers: tuple[tuple[str, Worker], ...],
    on_fatal: Callable[[BaseException], None],
) -> list[asyncio.Task[None]]:
    """The tasks of this node's role: storing (writer, replay), colours (pipeline and features)."""
    role = services.settings.node_role
    coros: list[tuple[str, Awaitable[None]]] = []
    if role == "api":  # no ingest, no store, no evaluation: the mirror and the websockets
        coros += [*jobs, ("heartbeat", services.hub.heartbeat(HEARTBEAT_S))]
        coros += [(name, worker(services)) for name, worker in workers]
        return [asyncio.create_task(supervised(n, c, on_fatal), name=n) for n, c in coros]
    coros.append(("ingest", services.ingest.run()))
    if role != "risk":
        coros += [("writer", services.writer.run()), ("spool_drain", services.writer.drain_spool())]
    if role != "ingest":
        coros += [
            ("pipeline", services.pipeline.run(services.settings.risk_tick_s)),
            ("heartbeat", services.hub.heartbeat(HEARTBEAT_S)),
            *jobs,
        ]
    else:
        for _, job in jobs:
            job.close()  # never started: an ingest node computes no colours
    coros += [(name, worker(services)) for name, worker in workers]
    return [asyncio.create_task(supervised(n, c, on_fatal), name=n) for n, c in coros]


WARM_START_S = 15 * 3600.0  # the last high water and its ±2 h (skew surge), and then some
HEARTBEAT_S = 15.0  # websocket keep-alive message to every client


async def warm_start(services: Services) -> None:
    """Read the last hours back from the store into the QC memory and the live coast state.

    After a restart, colours and surge persistence continue from stored data, and a message the
    broker redelivers gets the QC flag its reading was stored with. A store that is down is fine:
    the service starts cold and logs it.
    """
    now_s = services.clock.now()
    start_ns, end_ns = int((now_s - WARM_START_S) * 1e9), int((now_s + 86400.0) * 1e9)
    readings: list[Reading] = []
    try:
        for station in services.catalogue.stations:
            points = await services.store.query(station.id, None, start_ns, end_ns)
            readings += [Reading(p.station, p.kind, p.ts_ns, p.value, p.qc) for p in points]
    except StoreError as exc:
        log.warning("warm_start_skipped", error=str(exc))
        return
    services.ingest.seed_qc(readings)
    if services.settings.node_role != "ingest":  # an ingest node keeps no live state
        services.pipeline.state.add(readings)
    log.info("warm_started", readings=len(readings), hours=WARM_START_S / 3600)


async def _open_services(
    stack: AsyncExitStack,
    settings: Settings,
    catalogue: Catalogue,
    constants: dict[str, tide.TideConstants],
    clock: Clock,
    *,
    elsewhere: frozenset[str] = frozenset(),
    partition: tuple[str, ...] | None = None,
) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await stack.enter_async_context(open_configured_store(settings))
    dead = DeadLetters(
        settings.data_dir / "dead_letters.sqlite3",
        max_rows=settings.dead_letter_max_rows,
        max_age_s=settings.dead_letter_max_age_s,
    )
    await dead.open()
    stack.push_async_callback(dead.close)
    spool = Spool(settings.data_dir / "spool.sqlite3")
    await spool.open()
    stack.push_async_callback(spool.close)
    numerics = ThreadPoolExecutor(max_workers=2, thread_name_prefix="numerics")
    stack.callback(numerics.shutdown, wait=False)
    metrics = Metrics()
    hub = Hub(capacity=settings.ws_client_queue, stall_s=settings.ws_stall_s)
    pipeline = Pipeline(catalogue, constants, hub, metrics, clock, numerics)
    queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=settings.ingest_queue_size)
    brokers = Brokers(settings, metrics)
    writer = Writer(
        queue,
        store,
        spool,
        dead,
        metrics,
        max_readings=settings.batch_max_readings,
        max_wait_s=settings.batch_max_wait_s,
    )
    ingest = Ingest(
        IngestDeps(
            settings,
            catalogue.station_ids,
            queue,
            dead,
            metrics,
            pipeline.on_readings if settings.node_role != "ingest" else _ignore,
            clock.now,
            catalogue.qc,
            store_readings=settings.node_role != "risk",
            elsewhere=elsewhere,
            brokers=brokers,
            partition=partition,
            resolution={
                s.id: {k.value: v for k, v in s.resolution.items()}
                for s in catalogue.stations
                if s.resolution
            },
        )
    )
    return Services(
        settings,
        catalogue,
        store,
        dead,
        spool,
        metrics,
        hub,
        pipeline,
        clock,
        ZoneIndex(catalogue),
        ingest,
        writer,
        numerics,
        brokers,
        RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        ClientCaps(settings.ws_max_per_client),
        RoadNotes(settings.data_dir / "roads.sqlite3"),  # opened by a node that keeps notes
    )


def _ignore(blocks: list[Block]) -> None:
    """An ingest node keeps no live state."""
    del blocks


async def _shutdown(tasks: list[asyncio.Task[None]], services: Services) -> None:
    """Stop intake first, let the writer drain what is queued (bounded), then cancel the rest."""
    ingest = next((t for t in tasks if t.get_name() == "ingest"), None)
    if ingest is not None:
        ingest.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await ingest
    queue_empty = asyncio.create_task(services.writer.drained())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(queue_empty, timeout=5.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    log.info("service_stopped")
