"""Request bodies: the key is checked before any body byte is read, and the size is bounded.

An ASGI middleware in front of every route, so no handler, parser or dependency ever reads a body
that is too large or sent without a valid key:

- ``Content-Length`` over ``http_max_body_bytes`` is answered 413 at once, the body left unread;
  a body without a length (chunked) is counted while it is read and cut off with 413 at the limit.
- A request that carries a body (POST, PUT, PATCH) to a route that needs a key is answered 401
  before its body is read, unless it carries a known key (``X-API-Key`` or ``Authorization:
  Bearer``). The role is checked afterwards by the route, as always. Public body routes (the
  overtopping calculator) and acknowledgements signed with a webhook subscription's secret
  (``X-MarineWatch-Subscription``, checked by the route against the body) are the exceptions.
"""

from __future__ import annotations

import json
import re
from typing import Final

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marine_watch.services import Services

WITH_BODY: Final = frozenset({b"POST", b"PUT", b"PATCH", "POST", "PUT", "PATCH"})
#: Routes that take a body without a key.
PUBLIC_BODY: Final = re.compile(r"^/api/v1/segments/[^/]+/overtopping$")
SIGNED_ACK: Final = re.compile(r"^/api/v1/alerts/[^/]+/ack$")


class BodyTooLarge(HTTPException):
    """Raised by the counting ``receive`` when a body grows past the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class BodyGuard:
    """Bound request bodies and check keys before reading them (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a request body over ``http_max_body_bytes`` with 413 before the route reads it."""
        if scope["type"] != "http" or scope["method"] not in WITH_BODY:
            await self.app(scope, receive, send)
            return
        services: Services | None = getattr(scope["app"].state, "services", None)
        if services is None:  # not started yet: nothing to guard with
            await self.app(scope, receive, send)
            return
        limit = services.settings.http_max_body_bytes
        headers = {k.lower(): v for k, v in scope["headers"]}
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _answer(send, 413, f"request body larger than {limit} bytes")
            return
        path = scope["path"]
        if not PUBLIC_BODY.match(path) and not _has_key(services, headers, path):
            await _answer(
                send,
                401,
                "missing or unknown API key: send 'Authorization: Bearer <key>' or 'X-API-Key'",
                {"www-authenticate": "Bearer"},
            )
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _has_key(services: Services, headers: dict[bytes, bytes], path: str) -> bool:
    if SIGNED_ACK.match(path) and b"x-marinewatch-subscription" in headers:
        return True  # the route checks the signature over the body
    bearer = headers.get(b"authorization", b"")
    key = headers.get(b"x-api-key") or (
        bearer.removeprefix(b"Bearer ").strip() if bearer.startswith(b"Bearer ") else b""
    )
    if not key or services.features is None:  # an API node holds no keys
        return False
    return services.features.keyring.lookup(key.decode("latin-1")) is not None


async def _answer(send: Send, status: int, error: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    headers += [(b"connection", b"close")]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
