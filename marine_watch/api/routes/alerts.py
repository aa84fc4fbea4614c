"""Alerts for responders: the list, one message with its trail, acknowledgements, the audit trail
and a zone's colour history."""

import json
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from marine_watch.alerts.book import AlertMessage
from marine_watch.alerts.service import AlertService
from marine_watch.alerts.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)
from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import RateLimited, Responder, authorise, keyring_of
from marine_watch.auth.keys import Principal, Role

router = APIRouter(prefix="/api/v1")


def _alerts(services: ServicesDep) -> AlertService:
    return services.full.alerts


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
    sub = services.full.webhook_store.subscriptions.get(subscription)
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
