"""Open the alerting, auth, roads and forecast services and say which workers they need.

Called from the lifespan with its exit stack, so each resource closes in reverse order after the
workers have been cancelled.
"""

from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from marine_watch import logs
from marine_watch.alerts.book import AlertBook, Subject
from marine_watch.alerts.escalation import Escalator
from marine_watch.alerts.mailer import Mailer, MailStore
from marine_watch.alerts.netguard import TargetGuard, pinned_client
from marine_watch.alerts.service import AlertService
from marine_watch.alerts.store import AlertStore
from marine_watch.alerts.teams import load_teams
from marine_watch.alerts.webhooks import Policy, Replay, Sender, WebhookStore
from marine_watch.alerts.wording import Wording
from marine_watch.auth.keys import KeyRing, RateLimiter
from marine_watch.coast import load_catalogue
from marine_watch.inputs.forecast_inbox import Forecasters, ForecastInbox, subscribe_forecasts
from marine_watch.inputs.forecasts import ForecastBook
from marine_watch.inputs.road_notes import RoadNotes
from marine_watch.mqtt.accounts import read_accounts_config
from marine_watch.risk.mirror import MirroredAlerts, RiskMirror
from marine_watch.risk.regions import regions_of
from marine_watch.risk.topics import FEED_SIZE, RiskTopics

if TYPE_CHECKING:
    from marine_watch.app import Services

Job = tuple[str, Coroutine[object, object, None]]


async def open_features(stack: AsyncExitStack, services: "Services") -> list[Job]:
    """Register the feature services in ``services.extras``; return (name, worker) pairs."""
    s = services.settings
    logs.install_position_filter()
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
    roads = RoadNotes(s.data_dir / "roads.sqlite3")
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
    services.extras.update(
        keyring=keyring,
        ratelimit=RateLimiter(s.rate_limit_per_s, s.rate_limit_burst),
        alerts=alerts,
        webhook_store=webhook_store,
        webhook_guard=guard,
        replay=Replay(),
        roads=roads,
        forecasts=forecasts,
        teams=teams,
        escalator=escalator,
        outbox=outbox,
        forecasters=Forecasters(forecasters),
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


async def open_api_features(stack: AsyncExitStack, services: "Services") -> list[Job]:
    """An API node's services: the risk-topic mirror, the public rate limit, empty road notes.

    It holds no keys, alerts, webhooks or forecasts: the endpoints that need them are refused
    (marine_watch/api/nodes.py). The mirror's workers follow the broker and the colours' age.
    """
    del stack  # nothing of its own to close: the road notes are never opened
    s = services.settings
    logs.install_position_filter()
    region_of = regions_of(services.catalogue)
    mirror = RiskMirror(s, services.pipeline, region_of, link=services.brokers.link("risk_mirror"))
    services.extras.update(
        ratelimit=RateLimiter(s.rate_limit_per_s, s.rate_limit_burst),
        roads=RoadNotes(s.data_dir / "roads.sqlite3"),  # not mirrored: no notes on an API node
        mirror=mirror,
        public_alerts=MirroredAlerts(mirror),
    )
    return [("risk_mirror", mirror.run()), ("risk_age", mirror.watch())]
