"""The public alert feed: the Atom feed of the latest zone alerts and each message as CAP 1.2.

On an API node the messages come from the retained alert topics (retained/mirror.py), else from the
alert store.
"""

from typing import Protocol

from fastapi import APIRouter, HTTPException, Request, Response

from marine_watch.alerts.book import AlertMessage, Subject
from marine_watch.alerts.cap import FEED_SIZE, atom_feed, cap_document
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import RateLimited

router = APIRouter(prefix="/api/v1")
CAP_MEDIA = "application/cap+xml"
ATOM_MEDIA = "application/atom+xml"


class PublicAlerts(Protocol):
    """Where the public feed's messages come from: the alert store, or an API node's mirror."""

    async def messages(
        self, *, subject_id: str | None = None, limit: int = 100, subject: Subject | None = None
    ) -> list[AlertMessage]:
        """Alert messages, newest first, optionally of one subject."""

    async def message(self, identifier: str) -> AlertMessage | None:
        """The message with this identifier, or None."""


def _public(services: ServicesDep) -> PublicAlerts:
    if services.mirrored is not None:
        return services.mirrored.public_alerts
    return services.full.alerts.store


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
