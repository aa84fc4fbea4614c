"""Alerts (list, CAP, Atom feed, acknowledge), the audit trail, zone colour history and webhooks."""

import json
import time
from typing import Annotated, Literal, Protocol
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from marine_watch.alerts.book import AlertMessage, Subject
from marine_watch.alerts.cap import atom_feed, cap_document
from marine_watch.alerts.netguard import TargetRefused
from marine_watch.alerts.service import AlertService
from marine_watch.alerts.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookStore,
)
from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import RateLimited, Responder, authorise, keyring_of
from marine_watch.auth.keys import Principal, Role
from risk_models.levels import COLOUR_OF_CODE
from risk_models.types import Hazard
from sensors.catalogue import Tier

router = APIRouter(prefix="/api/v1")
CAP_MEDIA = "application/cap+xml"
ATOM_MEDIA = "application/atom+xml"
FEED_SIZE = 50


def _alerts(services: ServicesDep) -> AlertService:
    return services.full.alerts


class PublicAlerts(Protocol):
    """Where the public feed's messages come from: the alert store, or an API node's mirror."""

    async def messages(
        self, *, subject_id: str | None = None, limit: int = 100, subject: Subject | None = None
    ) -> list[AlertMessage]: ...

    async def message(self, identifier: str) -> AlertMessage | None: ...


def _public(services: ServicesDep) -> PublicAlerts:
    if services.mirrored is not None:
        return services.mirrored.public_alerts
    return _alerts(services).store


def _webhooks(services: ServicesDep) -> WebhookStore:
    return services.full.webhook_store


def _cap_link(request: Request, identifier: str) -> str:
    return str(request.url_for("alert_cap", identifier=identifier))


@router.get("/alerts.atom", tags=["alerts"], dependencies=[RateLimited], response_class=Response)
async def alerts_atom(request: Request, services: ServicesDep) -> Response:
    """Public Atom feed of the latest zone alerts; each entry carries and links its CAP 1.2 message."""
    messages = await _public(services).messages(limit=FEED_SIZE, subject=Subject.ZONE)
    zones = {z.id: z for z in services.catalogue.zones}
    base = str(request.base_url).rstrip("/")
    body = atom_feed(
        messages,
        zones,
        sender=services.settings.cap_sender,
        base_url=base,
        now_s=services.clock.now(),
        link=lambda i: _cap_link(request, i),
    )
    return Response(body, media_type=ATOM_MEDIA)


@router.get(
    "/alerts/{identifier}.cap",
    tags=["alerts"],
    dependencies=[RateLimited],
    response_class=Response,
    name="alert_cap",
)
async def alert_cap(identifier: str, request: Request, services: ServicesDep) -> Response:
    """One public alert message as CAP 1.2 XML."""
    message = await _public(services).message(identifier)
    if message is None or message.subject != Subject.ZONE:
        raise HTTPException(404, f"no public alert {identifier!r}")
    zone = next((z for z in services.catalogue.zones if z.id == message.subject_id), None)
    body = cap_document(
        message, zone, sender=services.settings.cap_sender, web=_cap_link(request, identifier)
    )
    return Response(body, media_type=CAP_MEDIA)


@router.get(
    "/alerts", tags=["alerts"], response_model=answers.AlertList, response_model_exclude_unset=True
)
async def list_alerts(
    services: ServicesDep,
    _who: Responder,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    active: bool = False,
    with_: Annotated[
        Literal["acks"] | None,
        Query(alias="with", description="acks: each item carries its acknowledgements"),
    ] = None,
) -> dict[str, object]:
    """Alert messages, newest first (zone and station alerts); ``active`` = open incidents only,
    each with the ``escalations`` of its newest message (to whom, when, after which delay);
    ``with=acks`` adds each message's acknowledgements (one read for the whole list)."""
    service = _alerts(services)
    if active:  # open incidents, with the escalations of their newest message (dashboard)
        items = [
            {**chain[-1].to_dict(), "escalations": await _escalations(service, chain[-1])}
            for chain in service.book.active.values()
        ]
    else:
        items = [
            m.to_dict() for m in await service.store.messages(subject_id=subject_id, limit=limit)
        ]
    if with_ == "acks":
        acks = await service.store.acknowledgements([str(i["identifier"]) for i in items])
        items = [{**i, "acknowledgements": acks[str(i["identifier"])]} for i in items]
    return {"count": len(items), "items": items}


async def _message(services: ServicesDep, identifier: str) -> AlertMessage:
    message = await _alerts(services).store.message(identifier)
    if message is None:
        raise HTTPException(404, f"unknown alert {identifier!r}")
    return message


@router.get("/alerts/{identifier}", tags=["alerts"], response_model=answers.AlertAnswer)
async def get_alert(identifier: str, services: ServicesDep, _who: Responder) -> dict[str, object]:
    """One message with its acknowledgements, escalations and e-mails (status per address)."""
    message = await _message(services, identifier)
    trail = await _alerts(services).store.trail(
        subject_id=message.subject_id, action="acknowledged"
    )
    acks = [t for t in trail if t["identifier"] == identifier]
    emails = await services.full.outbox.of_alert(identifier)
    return {
        **message.to_dict(),
        "acknowledgements": acks,
        "escalations": await _escalations(_alerts(services), message),
        "emails": emails,
    }


async def _escalations(service: AlertService, message: AlertMessage) -> list[dict[str, object]]:
    """The escalation steps of a message (audit trail rows), oldest first."""
    rows = await service.store.events(message.identifier, "escalated")
    return [{"ts_s": r["ts_s"], **json.loads(str(r["detail"]))} for r in rows]


class AckIn(BaseModel):
    """An acknowledgement."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=500)


@router.post(
    "/alerts/{identifier}/ack", tags=["alerts"], status_code=201, response_model=answers.Ack
)
async def acknowledge(
    identifier: str,
    request: Request,
    services: ServicesDep,
    subscription: Annotated[str | None, Header(alias="X-MarineWatch-Subscription")] = None,
) -> dict[str, object]:
    """Acknowledge: with a duty-officer/team key, or signed with a webhook subscription's secret.

    Signed: ``X-MarineWatch-Subscription``, ``X-MarineWatch-Timestamp`` and
    ``X-MarineWatch-Signature`` (the webhook scheme); stale or repeated signatures are refused.
    """
    raw = await request.body()
    try:
        ack = AckIn.model_validate_json(raw or b"{}")
    except ValueError as exc:
        raise HTTPException(
            422, f"body must be {{'note': str}}: {str(exc).splitlines()[0]}"
        ) from None
    who = await _acker(request, services, subscription, raw)
    message = await _message(services, identifier)
    return await _alerts(services).acknowledge(message, who, ack.note, services.clock.now())


async def _acker(
    request: Request, services: ServicesDep, subscription: str | None, raw: bytes
) -> Principal | str:
    if subscription is None:
        auth = request.headers.get("authorization", "")
        bearer = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        token = request.headers.get("x-api-key") or bearer
        return authorise(keyring_of(services), token, (Role.DUTY_OFFICER, Role.EMERGENCY_TEAM))
    sub = _webhooks(services).subscriptions.get(subscription)
    if sub is None:
        raise HTTPException(401, f"unknown webhook subscription {subscription!r}")
    problem = services.full.replay_guard.check(
        sub.secret,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        raw,
        time.time(),  # wall time, as the signer's: the service clock may be a scaled scenario
    )
    if problem:
        raise HTTPException(401, problem)
    return f"webhook:{sub.owner}:{sub.id}"


@router.get("/audit", tags=["alerts"], response_model=answers.AuditTrail)
async def audit(
    services: ServicesDep,
    _who: Responder,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, object]:
    """The audit trail (messages sent, acknowledgements, colour changes), oldest first."""
    items = await _alerts(services).store.trail(subject_id=subject_id, limit=limit)
    return {"count": len(items), "items": items}


@router.get(
    "/zones/{zone_id}/history",
    tags=["places"],
    dependencies=[RateLimited],
    response_model=answers.ZoneHistory,
)
async def zone_history(
    zone_id: str, services: ServicesDep, limit: Annotated[int, Query(ge=1, le=5000)] = 500
) -> dict[str, object]:
    """The zone's colour changes, oldest first (from the audit trail)."""
    if not any(z.id == zone_id for z in services.catalogue.zones):
        raise HTTPException(404, f"unknown zone {zone_id!r}")
    rows = await _alerts(services).store.trail(subject_id=zone_id, action="colour", limit=limit)
    items = [{"ts_s": r["ts_s"], **json.loads(str(r["detail"]))} for r in rows]
    return {"zone": zone_id, "count": len(items), "items": items}


class WebhookIn(BaseModel):
    """A webhook registration: where to POST, and which alerts."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, examples=["https://team.example.org/hooks/marine"])
    zones: list[str] = Field(default=[], max_length=200, description="zone ids; empty = all")
    tiers: list[Tier] = Field(default=[], description="city/town/village; empty = all")
    subjects: list[Literal["zone", "station"]] = Field(default=["zone"], min_length=1)
    hazards: list[Hazard] = Field(default=[], description="hazards of zone alerts; empty = all")
    min_colour: Literal["blue", "yellow", "orange", "red"] = Field(
        default="blue", description="zone alerts from this colour (a Cancel is always sent)"
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            msg = "url must be http(s)://host/path"
            raise ValueError(msg)
        if parts.username or parts.password:
            msg = "url must not carry credentials"
            raise ValueError(msg)
        return value


async def _check_target(services: ServicesDep, body: WebhookIn) -> None:
    unknown = sorted(set(body.zones) - {z.id for z in services.catalogue.zones})
    if unknown:
        raise HTTPException(422, f"unknown zones: {unknown}")
    try:
        url = httpx.URL(body.url)
    except httpx.InvalidURL as exc:
        raise HTTPException(422, f"url is not valid: {exc}") from None
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        await services.full.webhook_guard.vet(url.host, port)
    except TargetRefused as exc:
        raise HTTPException(422, str(exc)) from None


@router.post("/webhooks", tags=["webhooks"], status_code=201, response_model=answers.NewWebhook)
async def subscribe(body: WebhookIn, services: ServicesDep, who: Responder) -> dict[str, object]:
    """Register a webhook; the answer holds its signing secret, shown only this once."""
    await _check_target(services, body)
    sub = await _webhooks(services).subscribe(
        f"{who.role.value}:{who.name}",
        body.url,
        tuple(body.zones),
        tuple(t.value for t in body.tiers),
        tuple(body.subjects),
        tuple(h.value for h in body.hazards),
        COLOUR_OF_CODE.index(body.min_colour) - 1,
    )
    return {**sub.public(), "secret": sub.secret}


def _own(services: ServicesDep, who: Principal, sub_id: str) -> None:
    sub = _webhooks(services).subscriptions.get(sub_id)
    if sub is None:
        raise HTTPException(404, f"unknown webhook {sub_id!r}")
    if who.role != Role.ADMIN and sub.owner != f"{who.role.value}:{who.name}":
        raise HTTPException(403, "this webhook belongs to someone else")


@router.get("/webhooks", tags=["webhooks"], response_model=list[answers.Webhook])
async def list_webhooks(services: ServicesDep, who: Responder) -> list[dict[str, object]]:
    """Your webhooks (all of them for an admin), without secrets."""
    me = f"{who.role.value}:{who.name}"
    subs = _webhooks(services).subscriptions.values()
    return [s.public() for s in subs if who.role == Role.ADMIN or s.owner == me]


@router.delete("/webhooks/{sub_id}", tags=["webhooks"], status_code=204, response_class=Response)
async def unsubscribe(sub_id: str, services: ServicesDep, who: Responder) -> Response:
    """Stop a webhook (its delivery log is kept)."""
    _own(services, who, sub_id)
    await _webhooks(services).unsubscribe(sub_id)
    return Response(status_code=204)


@router.get("/webhooks/{sub_id}/deliveries", tags=["webhooks"], response_model=answers.DeliveryLog)
async def deliveries(
    sub_id: str,
    services: ServicesDep,
    who: Responder,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, object]:
    """The delivery log: each delivery's status and every attempt."""
    _own(services, who, sub_id)
    items = await _webhooks(services).log(sub_id, limit)
    return {"count": len(items), "items": items}


@router.post("/webhooks/{sub_id}/redeliver", tags=["webhooks"], response_model=answers.Requeued)
async def redeliver(sub_id: str, services: ServicesDep, who: Responder) -> dict[str, object]:
    """Queue the failed deliveries of a webhook again."""
    _own(services, who, sub_id)
    n = await _webhooks(services).redeliver(sub_id)
    _alerts(services).sender.wake.set()
    return {"requeued": n}
