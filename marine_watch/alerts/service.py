"""The alert service: after each evaluation, turn colour and station changes into alert messages.

It is an async pipeline hook, so the pipeline waits while a message is made durable (SQLite) and
spooled for every webhook subscriber: backpressure instead of a queue that could drop messages.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from marine_watch.alerts.book import AlertBook, AlertMessage, AuditEntry
from marine_watch.alerts.escalation import Escalator
from marine_watch.alerts.store import AlertStore
from marine_watch.alerts.webhooks import Sender, WebhookStore
from marine_watch.auth.keys import Principal
from marine_watch.hub import Hub
from marine_watch.risk.pipeline import Pipeline
from marine_watch.risk.zones import PlaceColour

log = structlog.get_logger(__name__)


@dataclass
class AlertService:
    """Owns the alert book and feeds the store, /ws/alerts and the webhooks."""

    store: AlertStore
    book: AlertBook
    hub: Hub
    webhooks: WebhookStore
    sender: Sender
    pipeline: Pipeline
    public_url: str
    escalator: Escalator | None = None  # e-mail to the teams, escalation (docs/ALERTS.md)
    listeners: list[Callable[[AlertMessage], None]] = field(default_factory=list)

    async def on_change(self, changed: list[PlaceColour], now_s: float) -> None:
        """Pipeline hook: record colour changes, then raise/update/cancel alerts.

        Every zone is offered to the book after each evaluation, not only the changed ones: a
        lowering the book refused while its driver had no data is sent once the driver is back.
        """
        kept = self.pipeline.memory.take_dirty()
        if kept:
            await self.store.keep_known(kept)
        if changed:
            await self.store.colours([(c.id, c.level, c.colour, now_s) for c in changed])
        zones = [c for c in self.pipeline.book.current.values() if c.kind == "zone"]
        messages = [m for c in zones if (m := self.book.on_colour(c, now_s)) is not None]
        state = self.pipeline.state
        for station in self.pipeline.catalogue.stations:
            status, reason = self.pipeline.assessor.station_status(state, station, now_s)
            message = self.book.on_station(station.id, status, reason, now_s)
            if message is not None:
                messages.append(message)
        for message in messages:
            await self.emit(message)

    async def emit(self, message: AlertMessage) -> None:
        """Store, broadcast and deliver one message: listeners, websocket, webhooks, e-mail."""
        await self.store.add(message)
        for listener in self.listeners:
            listener(message)
        payload = {"type": "alert", **message.to_dict()}
        self.hub.publish("alerts", message.identifier, payload)
        body = json.dumps(
            {**payload, "cap": f"{self.public_url}/api/v1/alerts/{message.identifier}.cap"},
            default=str,
        ).encode()
        spooled = await self.webhooks.enqueue(message, body)
        if spooled:
            self.sender.wake.set()
        emails = await self.escalator.notify(message) if self.escalator else 0
        log.info(
            "alert_sent",
            msg_type=message.msg_type.value,
            subject=message.subject_id,
            level=message.level,
            webhooks=spooled,
            emails=emails,
        )

    async def lift(self, station: str, who: Principal, note: str, now_s: float) -> list[str]:
        """A duty officer lifts the held members of a station: audited, then re-evaluated."""
        actor = f"{who.role.value}:{who.name}"
        pipeline = self.pipeline
        current = {a.key: a for a in pipeline.assessments.values()}
        members = pipeline.memory.lift(station, current, actor, note, now_s)
        if members:
            detail = json.dumps({"note": note, "members": members}, ensure_ascii=False)
            await self.store.audit(AuditEntry(now_s, actor, "lifted", station, None, detail))
            await self.store.keep_known(pipeline.memory.take_dirty())
            pipeline.request_evaluation()
        return members

    async def acknowledge(
        self, message: AlertMessage, who: Principal | str, note: str, now_s: float
    ) -> dict[str, object]:
        """Record an acknowledgement of ``message`` in the audit trail and broadcast it; the ack."""
        actor = who if isinstance(who, str) else f"{who.role.value}:{who.name}"
        await self.store.audit(
            AuditEntry(now_s, actor, "acknowledged", message.subject_id, message.identifier, note)
        )
        ack = {
            "type": "ack",
            "identifier": message.identifier,
            "incident": message.incident,
            "by": actor,
            "note": note,
            "ts": now_s,
        }
        self.hub.publish("alerts", f"ack:{message.identifier}:{actor}", ack)
        return ack
