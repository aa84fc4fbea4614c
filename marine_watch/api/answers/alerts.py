"""Answers about alerts: messages, acknowledgements, the audit trail, webhooks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from marine_watch.api.answers.base import Answer, Open


class Acknowledgement(Answer):
    """An acknowledgement, as the audit trail holds it."""

    ts_s: float
    actor: str
    action: str
    subject_id: str
    identifier: str | None
    detail: str


class AlertAnswer(Answer):
    """An alert message (CAP Alert, Update or Cancel)."""

    identifier: str
    incident: str
    subject: Literal["zone", "station"]
    subject_id: str
    tier: str | None
    msg_type: Literal["Alert", "Update", "Cancel"]
    level: int
    colour: str
    sent_s: float
    references: list[str]
    headline: str
    headline_zh: str | None
    response_type: str | None
    explanation: Open | None
    acknowledgements: list[Acknowledgement] | None = Field(
        default=None, description="with=acks, and GET /alerts/{identifier}: who acknowledged it"
    )


class AlertList(Answer):
    """Alert messages, newest first."""

    count: int
    items: list[AlertAnswer]


class Ack(Answer):
    """An acknowledgement just made."""

    type: Literal["ack"]
    identifier: str
    incident: str
    by: str
    note: str
    ts: float


class AuditRow(Answer):
    """One line of the audit trail."""

    ts_s: float
    actor: str
    action: str
    subject_id: str | None
    identifier: str | None
    detail: str | None


class AuditTrail(Answer):
    """The audit trail, oldest first."""

    count: int
    items: list[AuditRow]


class ColourChange(Answer):
    """A zone's colour change."""

    ts_s: float
    level: int
    colour: str


class ZoneHistory(Answer):
    """A zone's colour changes, oldest first."""

    zone: str
    count: int
    items: list[ColourChange]


class Webhook(Answer):
    """A webhook subscription (never its secret, but once: in the answer that made it)."""

    id: str
    owner: str
    url: str
    zones: list[str]
    tiers: list[str]
    subjects: list[str]
    created_s: float


class NewWebhook(Webhook):
    """A webhook just made, with its signing secret (shown this once)."""

    secret: str


class Attempt(Answer):
    """One delivery attempt."""

    ts_s: float
    http_status: int | None
    error: str | None
    ms: float | None


class Delivery(Answer):
    """One delivery of an alert to a webhook, with its attempts."""

    id: int
    identifier: str
    status: str
    attempts: int
    last_error: str | None
    created_s: float
    delivered_s: float | None
    log: list[Attempt]


class DeliveryLog(Answer):
    """A webhook's deliveries, newest first."""

    count: int
    items: list[Delivery]


class Requeued(Answer):
    """How many failed deliveries went back in the queue."""

    requeued: int
