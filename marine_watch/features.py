"""Open the alerting, auth, roads and forecast services and say which workers they need.

Called from the lifespan with its exit stack, so each resource closes in reverse order after the
workers have been cancelled.
"""

from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from marine_watch import privacy
from marine_watch.alert_store import AlertStore
from marine_watch.alerting import AlertService
from marine_watch.alerts import AlertBook
from marine_watch.auth import KeyRing, RateLimiter
from marine_watch.forecast import ForecastBook
from marine_watch.forecast_inbox import Forecasters, ForecastInbox, subscribe_forecasts
from marine_watch.mqtt_accounts import read_accounts_config
from marine_watch.netguard import TargetGuard, pinned_client
from marine_watch.risk_topics import RiskTopics
from marine_watch.roads import RoadNotes
from marine_watch.webhooks import Policy, Replay, Sender, WebhookStore
from marine_watch.wording import Wording

if TYPE_CHECKING:
    from marine_watch.app import Services

Job = tuple[str, Coroutine[object, object, None]]


async def open_features(stack: AsyncExitStack, services: "Services") -> list[Job]:
    """Register the feature services in ``services.extras``; return (name, worker) pairs."""
    s = services.settings
    privacy.install()
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
    alerts = AlertService(
        alert_store, book, services.hub, webhook_store, sender, services.pipeline, s.public_url
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
        forecasters=Forecasters(forecasters),
    )
    jobs: list[Job] = [
        ("webhooks", sender.run()),
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
            ),
        ),
    ]
    if s.risk_topics:
        topics = RiskTopics(s)
        services.pipeline.listeners.append(topics.on_change)
        jobs.append(("risk_topics", topics.run()))
    return jobs
