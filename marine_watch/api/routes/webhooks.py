"""Webhooks: register, list, stop, see deliveries and redeliver (signed POSTs to the public internet)."""

from typing import Annotated, Literal
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from marine_watch.alerts.netguard import TargetRefused
from marine_watch.alerts.webhooks import (
    WebhookStore,
)
from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import Responder
from marine_watch.auth.keys import Principal, Role
from risk_models.levels import COLOUR_OF_CODE
from risk_models.types import Hazard
from sensors.catalogue import Tier

router = APIRouter(prefix="/api/v1")


def _webhooks(services: ServicesDep) -> WebhookStore:
    return services.full.webhook_store


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
    services.full.alerts.sender.wake.set()
    return {"requeued": n}
