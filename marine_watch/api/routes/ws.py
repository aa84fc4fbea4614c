"""Websockets: /ws/risk (colour changes), /ws/feeds (live readings); snapshot on connect, heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import WS_UNSUPPORTED_DATA, ws_principal
from marine_watch.auth.keys import Role
from marine_watch.hub import Subscriber

router = APIRouter()
WS_TRY_AGAIN_LATER = 1013


@contextlib.asynccontextmanager
async def _capped(websocket: WebSocket, services: ServicesDep) -> AsyncIterator[bool]:
    """Whether this client may open one more websocket (closed with 1013 when it may not)."""
    caps, client = services.ws_caps, websocket.client.host if websocket.client else "unknown"
    if not caps.take(client):
        await websocket.accept()
        reason = f"too many websockets from this client (at most {caps.limit})"
        await websocket.close(WS_TRY_AGAIN_LATER, reason)
        yield False
        return
    try:
        yield True
    finally:
        caps.give_back(client)


RAW_SEND = "marine_watch.raw_send"


class RawSendMiddleware:
    """Record the server's own ``send`` of a websocket connection in its scope (for direct_writer).

    Starlette wraps ``send`` in closures further in; the outermost middleware still sees uvicorn's.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Keep a websocket's raw ASGI ``send`` in its scope, where the route finds the server protocol."""
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        await self.app(scope, receive, send)


def direct_writer(websocket: WebSocket) -> Callable[[str], bool] | None:
    """A synchronous frame writer for this connection, or None where the server is not supported.

    Starlette's ``send_text`` costs each of thousands of clients a task wake-up and an awaited ASGI
    send per message; ``websockets.broadcast`` (docs/topics/broadcast.rst) writes frames without
    awaiting. This does the same on uvicorn's sans-I/O websocket protocol, whose ``send`` does exactly
    ``conn.send_text`` + ``transport.write`` once ``writable`` is set. It refuses (False) whenever
    uvicorn would wait or fail: paused transport (backpressure), closing, or a connection not OPEN,
    so slow clients fall back to their bounded, coalescing mailbox. Pinned by tests/marine_watch/
    test_ws_direct.py against the installed uvicorn.
    """
    proto = getattr(websocket.scope.get(RAW_SEND), "__self__", None)
    if not isinstance(proto, WebSocketsSansIOProtocol):
        return None

    def write(text: str) -> bool:
        if (
            proto.disconnected
            or proto.close_sent
            or not proto.writable.is_set()
            or proto.transport.is_closing()
            or proto.conn.state is not State.OPEN
        ):
            return False
        proto.conn.send_text(text.encode())
        proto.transport.write(b"".join(proto.conn.data_to_send()))
        return True

    return write


async def _pump(websocket: WebSocket, sub: Subscriber) -> None:
    """Send mailbox batches (heartbeats come from the hub) until the client leaves or is closed."""
    while True:
        batch = await sub.next_batch()
        if sub.closed_reason:
            await websocket.close(code=1008, reason=sub.closed_reason[:120])
            return
        sub.sending = True
        try:
            for text in batch:
                await websocket.send_text(text)
        finally:
            sub.sending = False


async def _serve(
    websocket: WebSocket, services: ServicesDep, channel: str, sub: Subscriber, first: str | None
) -> None:
    services.metrics.ws_clients.labels(channel).inc()
    try:
        direct = direct_writer(websocket)
        if first is not None and not (direct is not None and direct(first)):
            await websocket.send_text(first)  # a paused transport: wait as any send does
        sub.direct = direct  # only after the snapshot: changes never overtake it
        pump = asyncio.create_task(_pump(websocket, sub), name=f"ws-{channel}")
        try:
            while not pump.done():  # reading detects the client leaving
                receive = asyncio.create_task(websocket.receive())
                done, _ = await asyncio.wait({pump, receive}, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    continue
                message = receive.result()
                if message["type"] == "websocket.disconnect":
                    raise WebSocketDisconnect(message.get("code", 1000))
                if message.get("bytes") is not None:  # the channels speak JSON text only
                    await websocket.close(WS_UNSUPPORTED_DATA, "binary frames are not accepted")
                    return
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await pump
    except WebSocketDisconnect:
        pass
    finally:
        services.hub.unsubscribe(channel, sub)
        services.metrics.ws_clients.labels(channel).dec()


@router.websocket("/ws/risk")
async def ws_risk(websocket: WebSocket, services: ServicesDep) -> None:
    """A snapshot of every place's colour, then each change as it happens."""
    async with _capped(websocket, services) as admitted:
        if not admitted:
            return
        await websocket.accept()
        sub = services.hub.subscribe("risk")
        snapshot = services.pipeline.snapshot_text()
        await _serve(websocket, services, "risk", sub, snapshot)


def install(app: FastAPI) -> None:
    """Match /ws/risk before every router (routes are matched in order), below FastAPI's
    dependency solving.

    In a storm of residents' pages connecting at once, each connection paid the matching through
    every router and the solving of its one dependency: with the collector tamed, about a fifth
    of the node's CPU time per connection (BENCHMARKS.md, "The connect storm, measured apart").
    The same handler, with the lifespan's services taken from the connection's state as
    ``get_services`` does; the route above stays the documented one, as api/fastpath.py does for
    the resident lookup.
    """

    async def ws_risk_fast(websocket: WebSocket) -> None:
        await ws_risk(websocket, websocket.state.services)

    app.router.routes.insert(0, WebSocketRoute("/ws/risk", ws_risk_fast))


@router.websocket("/ws/feeds")
async def ws_feeds(
    websocket: WebSocket, services: ServicesDep, station: str | None = None, kind: str | None = None
) -> None:
    """Live readings, optionally of one station and/or kind (?station=zhapu&kind=tide_level).

    Duty officers only: the key in an X-API-Key or Authorization header, or as the first message
    ``{"type": "auth", "key": "<key>"}``; never in the URL.
    """
    async with _capped(websocket, services) as admitted:
        if not admitted or await ws_principal(websocket, services, Role.DUTY_OFFICER) is None:
            return
        stations = set(station.split(",")) if station else None
        kinds = set(kind.split(",")) if kind else None

        def accepts(message: dict[str, object]) -> bool:
            return (stations is None or message.get("station") in stations) and (
                kinds is None or message.get("kind") in kinds
            )

        sub = services.hub.subscribe("feeds", accepts)
        await _serve(websocket, services, "feeds", sub, None)


@router.websocket("/ws/alerts")
async def ws_alerts(websocket: WebSocket, services: ServicesDep) -> None:
    """Alert messages (Alert/Update/Cancel) and acknowledgements as they happen, in order.

    Duty officers and emergency teams, authenticated as on /ws/feeds; ``?zone=a,b`` filters by subject.
    """
    async with _capped(websocket, services) as admitted:
        roles = (Role.DUTY_OFFICER, Role.EMERGENCY_TEAM)
        if not admitted or await ws_principal(websocket, services, *roles) is None:
            return
        wanted = websocket.query_params.get("zone")
        zones = set(wanted.split(",")) if wanted else None

        def accepts(message: dict[str, object]) -> bool:
            return (
                zones is None or message.get("subject_id") in zones or message.get("type") == "ack"
            )

        sub = services.hub.subscribe("alerts", accepts)
        await _serve(websocket, services, "alerts", sub, '{"type":"hello","channel":"alerts"}')
