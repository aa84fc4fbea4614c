"""What a partial node answers: operations on an ingest node, the public answers on an API node.

An ingest node (``MARINE_WATCH_NODE_ROLE=ingest``) stores readings and keeps no live state, so every
place, risk, alert and websocket endpoint would answer from nothing. An API node (``api``) rebuilds
the public answers from the retained risk topics but stores nothing and holds no keys, so the
readings, the inputs, the duty officers' and teams' endpoints would answer from nothing too. Each
refuses the rest with 503 and says where to ask instead.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

OPERATIONS = (
    "/health",
    "/metrics",
    "/docs",  # also /docs-assets and /docs/oauth2-redirect
    "/redoc",
    "/openapi.json",
)
INGEST_SERVED = (*OPERATIONS, "/api/v1/dead-letters", "/api/v1/stations")
INGEST_REFUSAL = (
    "this node only ingests (MARINE_WATCH_NODE_ROLE=ingest); ask a node with role risk or all"
)
#: The public answers an API node rebuilds (exact paths, then prefixes).
API_EXACT = frozenset(
    {
        "/",
        "/resident",
        "/api/v1/risk",
        "/api/v1/zones",
        "/api/v1/segments",
        "/api/v1/stations",
        "/api/v1/alerts.atom",
        "/ws/risk",
    }
)
API_PREFIXES = (*OPERATIONS, "/static/")
#: One more path segment: a zone, a station, a public CAP message (not a zone's history or readings).
API_ITEMS = (("/api/v1/zones/", ""), ("/api/v1/stations/", ""), ("/api/v1/alerts/", ".cap"))
API_REFUSAL = (
    "this node serves the public answers only (MARINE_WATCH_NODE_ROLE=api); ask a node with role"
    " risk or all"
)
TRY_AGAIN_LATER = 1013  # websocket close code


def ingest_serves(path: str) -> bool:
    """Whether an ingest node answers ``path`` (health and metrics)."""
    return path.startswith(INGEST_SERVED)


def api_serves(path: str) -> bool:
    """Whether an API node answers ``path``: the read routes, the pages and the websockets."""
    if path in API_EXACT or path.startswith(API_PREFIXES):
        return True
    return any(
        path.startswith(prefix) and path.endswith(suffix) and "/" not in path[len(prefix) :]
        for prefix, suffix in API_ITEMS
    )


class RoleLimit:
    """ASGI middleware: pass the paths this role serves, refuse the rest with 503 (handshakes too)."""

    def __init__(self, app: ASGIApp, *, role: str) -> None:
        self.app = app
        self._serves = api_serves if role == "api" else ingest_serves
        self._refusal = API_REFUSAL if role == "api" else INGEST_REFUSAL

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the paths this node serves; answer the others 503 (websockets: refuse the handshake)."""
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or self._serves(path):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": self._refusal}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        prefix = "http"
        if scope["type"] == "websocket":
            if "websocket.http.response" not in scope.get("extensions", {}):
                await send(
                    {"type": "websocket.close", "code": TRY_AGAIN_LATER, "reason": self._refusal}
                )
                return
            prefix = "websocket.http"  # refuse the handshake with the same 503 answer
        await send({"type": f"{prefix}.response.start", "status": 503, "headers": headers})
        await send({"type": f"{prefix}.response.body", "body": body})
