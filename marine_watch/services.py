"""The services a node runs, as one typed record, and the opening of the feature services.

``Services`` is what the lifespan opens and every route reaches (``api/deps.py``): the core that
each node has (settings, store, ingest, pipeline, hub …), plus either the ``Features`` of a node
that evaluates (keys, alerts, webhooks, e-mail, escalation, forecasts, road notes) or the
``MirrorFeatures`` of an API node (the retained risk topics). ``open_features`` and
``open_api_features`` are called from the lifespan with its exit stack, so each resource closes in
reverse order after the workers have been cancelled.
"""

from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from marine_watch.alerts.book import AlertBook, Subject
from marine_watch.alerts.cap import FEED_SIZE
from marine_watch.alerts.escalation import Escalator
from marine_watch.alerts.mailer import Mailer, MailStore
from marine_watch.alerts.netguard import TargetGuard, pinned_client
from marine_watch.alerts.service import AlertService
from marine_watch.alerts.store import AlertStore
from marine_watch.alerts.teams import Teams, load_teams
from marine_watch.alerts.webhooks import Policy, ReplayGuard, Sender, WebhookStore
from marine_watch.alerts.wording import Wording
from marine_watch.auth.keys import KeyRing
from marine_watch.auth.rate_limits import ClientCaps, RateLimiter
from marine_watch.clock import Clock
from marine_watch.coast import load_catalogue
from marine_watch.errors import NotOnThisNode
from marine_watch.hub import Hub
from marine_watch.ingest.dead_letters import DeadLetters
from marine_watch.ingest.subscriber import Ingest
from marine_watch.ingest.writer import Writer
from marine_watch.inputs.forecast_inbox import Forecasters, ForecastInbox, subscribe_forecasts
from marine_watch.inputs.forecasts import ForecastBook
from marine_watch.inputs.road_notes import RoadNotes
from marine_watch.metrics import Metrics
from marine_watch.mqtt.accounts import read_accounts_config
from marine_watch.mqtt.client import Brokers
from marine_watch.retained.mirror import MirroredAlerts, RiskMirror
from marine_watch.retained.publisher import RiskTopics
from marine_watch.risk.pipeline import Pipeline
from marine_watch.risk.regions import regions_of
from marine_watch.risk.zones import ZoneIndex
from marine_watch.settings import Settings
from marine_watch.store import Store
from marine_watch.store.spool import Spool
from sensors.catalogue import Catalogue


@dataclass(frozen=True)
class Features:
    """What a node that evaluates colours adds: keys, alerts and their delivery, forecasts, notes."""

    keyring: KeyRing
    alerts: AlertService
    webhook_store: WebhookStore
    webhook_guard: TargetGuard
    replay_guard: ReplayGuard
    forecasts: ForecastBook
    forecasters: Forecasters
    teams: Teams
    escalator: Escalator
    outbox: MailStore


@dataclass(frozen=True)
class MirrorFeatures:
    """What an API node adds: the retained risk topics and the alert feed they carry."""

    mirror: RiskMirror
    public_alerts: MirroredAlerts


@dataclass(eq=False)
class Services:
    """Everything a request handler may reach (lifespan state, via Depends)."""

    settings: Settings
    catalogue: Catalogue
    store: Store
    dead_letters: DeadLetters
    spool: Spool
    metrics: Metrics
    hub: Hub
    pipeline: Pipeline
    clock: Clock
    zones: ZoneIndex
    ingest: Ingest
    writer: Writer
    numerics: ThreadPoolExecutor
    brokers: Brokers  # which broker each MQTT client is on, failovers (/health, /metrics)
    ratelimit: RateLimiter
    ws_caps: ClientCaps
    roads: RoadNotes
    features: Features | None = None  # a node that evaluates (all, risk, ingest)
    mirrored: MirrorFeatures | None = field(default=None)  # an API node

    @property
    def full(self) -> Features:
        """The evaluating node's features; :class:`NotOnThisNode` on an API node."""
        if self.features is None:
            raise NotOnThisNode(self.settings.node_role)
        return self.features


Job = tuple[str, Coroutine[object, object, None]]


async def open_features(stack: AsyncExitStack, services: Services) -> list[Job]:
    """Open the feature services into ``services.features``; return (name, worker) pairs."""
    s = services.settings
    keyring = KeyRing(s)
    await keyring.open(s.data_dir / "users.sqlite3")
    stack.push_async_callback(keyring.close)
    alert_store = AlertStore(s.data_dir / "alerts.sqlite3")
    book = AlertBook(Wording(services.catalogue))
    book.restore(await alert_store.open())
    services.pipeline.memory.restore(await alert_store.last_known())
    stack.push_async_callback(alert_store.close)
    webhook_store = WebhookStore(s.data_dir / "webhooks.sqlite3")
    await webhook_store.open()
    stack.push_async_callback(webhook_store.close)
    guard = TargetGuard(s.webhook_allow_networks, timeout_s=s.webhook_timeout_s)
    http = pinned_client(guard, s.webhook_timeout_s)
    stack.push_async_callback(http.aclose)
    policy = Policy(
        s.webhook_timeout_s,
        s.webhook_max_attempts,
        s.webhook_backoff_s,
        s.webhook_backoff_max_s,
        s.webhook_queue,
    )
    sender = Sender(webhook_store, http, policy)
    outbox = MailStore(s.data_dir / "mail.sqlite3")
    await outbox.open()
    stack.push_async_callback(outbox.close)
    mailer = Mailer(outbox, s)
    known = {z.id for z in services.catalogue.zones}
    if s.regions:  # a regional risk node: the other regions' teams are valid, just not its own
        known |= {z.id for z in load_catalogue(s.config_dir).zones}
    teams = load_teams(s.teams_file or s.config_dir / "teams.toml", known)
    escalator = Escalator(
        alert_store,
        book,
        teams,
        outbox,
        mailer,
        webhook_store,
        sender,
        services.hub,
        services.clock,
        s.public_url,
    )
    alerts = AlertService(
        alert_store,
        book,
        services.hub,
        webhook_store,
        sender,
        services.pipeline,
        s.public_url,
        escalator,
    )
    services.pipeline.async_listeners.append(alerts.on_change)
    roads = services.roads
    await roads.open()
    stack.push_async_callback(roads.close)
    forecasts = ForecastBook(
        services.catalogue,
        s.forecast_max_age_s,
        tolerance_s=s.future_tolerance_s,
        now_s=services.clock.now,
    )
    forecasters = {
        name: f.source for name, f in read_accounts_config(s.config_dir).forecasters.items()
    }
    services.pipeline.adjusters.append(forecasts.adjust)
    services.features = Features(
        keyring=keyring,
        alerts=alerts,
        webhook_store=webhook_store,
        webhook_guard=guard,
        replay_guard=ReplayGuard(),
        forecasts=forecasts,
        forecasters=Forecasters(forecasters),
        teams=teams,
        escalator=escalator,
        outbox=outbox,
    )
    jobs: list[Job] = [
        ("webhooks", sender.run()),
        ("email", mailer.run()),
        ("escalation", escalator.run(s.escalation_check_s)),
        (
            "forecasts",
            subscribe_forecasts(
                s,
                ForecastInbox(
                    forecasts,
                    services.dead_letters,
                    services.pipeline.request_evaluation,
                    forecasters,
                ),
                services.brokers.link("forecasts"),
                services.catalogue.station_ids if s.regions else None,
            ),
        ),
    ]
    if s.risk_topics:
        topics = RiskTopics(s, services.pipeline, services.brokers.link("risk_topics"))
        topics.seed_alerts(await alert_store.messages(limit=FEED_SIZE, subject=Subject.ZONE))
        alerts.listeners.append(topics.on_alert)
        services.pipeline.listeners.append(topics.on_change)
        jobs.append(("risk_topics", topics.run()))
    return jobs


async def open_api_features(stack: AsyncExitStack, services: Services) -> list[Job]:
    """An API node's services: the risk-topic mirror and the alert feed it carries.

    It holds no keys, alerts, webhooks or forecasts: the endpoints that need them are refused
    (marine_watch/api/nodes.py). The mirror's workers follow the broker and the colours' age.
    """
    del stack  # nothing of its own to close (its road notes, in Services, are never opened)
    s = services.settings
    region_of = regions_of(services.catalogue)
    mirror = RiskMirror(s, services.pipeline, region_of, link=services.brokers.link("risk_mirror"))
    services.mirrored = MirrorFeatures(mirror, MirroredAlerts(mirror))
    return [("risk_mirror", mirror.run()), ("risk_age", mirror.watch())]
