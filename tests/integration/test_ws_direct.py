"""Websocket fan-out writes frames directly on uvicorn's sans-I/O protocol, in order, after the snapshot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from importlib.metadata import version

import pytest
from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.asyncio.client import connect

from marine_watch.settings import Settings
from tests.helpers import serve
from tests.services import Broker, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


def test_uvicorn_serves_websockets_with_the_protocol_the_direct_writer_knows() -> None:
    """The adapter relies on uvicorn's sans-I/O protocol being the default (uvicorn 0.3x-0.5x)."""
    major, minor = (int(x) for x in version("uvicorn").split(".")[:2])
    assert (major, minor) < (1, 0)
    assert minor >= 30
    assert AutoWebSocketsProtocol is WebSocketsSansIOProtocol


async def test_changes_follow_the_snapshot_in_order_through_the_direct_path(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """A burst of 200 distinct changes reaches the client whole and in publish order."""
    async with serve(make_settings(mosquitto)) as app, connect(f"{app.ws}/ws/risk") as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        hub = app.services.hub
        async with asyncio.timeout(scaled(5)):
            while not hub.count("risk") or not all(s.direct for s in hub._channels["risk"]):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        for i in range(200):
            hub.publish("risk", f"k{i}", {"type": "zone", "id": f"k{i}", "n": i})
        got: list[int] = []
        async with asyncio.timeout(scaled(10)):
            while len(got) < 200:
                message = json.loads(await ws.recv())
                if message.get("type") == "zone" and str(message.get("id", "")).startswith("k"):
                    got.append(message["n"])
        assert got == list(range(200))
