"""Serve the real app inside the test's loop, against the private broker and store."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from marine_watch.app import Services, create_app, server_options
from marine_watch.clock import Clock
from marine_watch.settings import Settings
from tests.services import scaled


@dataclass
class Running:
    """A served app: its base URLs and its services."""

    http: str
    ws: str
    services: Services
    crashes: list[BaseException]
    app: FastAPI


@asynccontextmanager
async def serve(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Running]:
    """Run uvicorn on a port-0 socket in this loop; a worker crash fails the test."""
    crashes: list[BaseException] = []
    app = create_app(settings, clock=clock, on_fatal=crashes.append)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", **server_options(settings))  # type: ignore[arg-type]
    )
    task = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
    try:
        async with asyncio.timeout(scaled(20)):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await asyncio.sleep(0.02)
        services: Services = app.state.services
        async with asyncio.timeout(scaled(20)):
            await services.ingest.connected.wait()
        yield Running(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", services, crashes, app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, scaled(30))
        sock.close()
    assert not crashes, f"a worker crashed: {crashes!r}"
