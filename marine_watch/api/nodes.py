"""What an ingest-only node (``MARINE_WATCH_NODE_ROLE=ingest``) answers: operations, not colours.

An ingest node stores readings and keeps no live state, so every place, risk, alert and websocket
endpoint would answer from nothing. It refuses them with 503 and says where to ask instead; the
store-backed and operational endpoints answer as on any node.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

SERVED = (
    "/health",
    "/metrics",
    "/api/v1/dead-letters",
    "/api/v1/stations",
    "/docs",  # also /docs-assets and /docs/oauth2-redirect
    "/redoc",
    "/openapi.json",
)
REFUSAL = "this node only ingests (MARINE_WATCH_NODE_ROLE=ingest); ask a node with role risk or all"
TRY_AGAIN_LATER = 1013  # websocket close code


class IngestOnly:
    """ASGI middleware: pass the served paths, refuse the rest with 503 (handshakes too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or path.startswith(SERVED):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": REFUSAL}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        prefix = "http"
        if scope["type"] == "websocket":
            if "websocket.http.response" not in scope.get("extensions", {}):
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER, "reason": REFUSAL})
                return
            prefix = "websocket.http"  # refuse the handshake with the same 503 answer
        await send({"type": f"{prefix}.response.start", "status": 503, "headers": headers})
        await send({"type": f"{prefix}.response.body", "body": body})
