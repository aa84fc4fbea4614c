"""The embedded MQTT broker of ``marine-watch demo``: Mosquitto with generated accounts and ACL.

The demo runs the same scheme as production (docs/SECURITY.md): no anonymous access, one account
per station, the service alone on its own listener. There is no in-process fallback: the pure
Python broker we used (amqtt) cannot bind a client id to an account, so any client could take over
the service's session. Install Mosquitto (`make system-deps`, Debian package ``mosquitto``).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog

from marine_watch.broker_conf import Layout
from marine_watch.errors import ConfigError
from marine_watch.mqtt_accounts import Accounts, plan, read_accounts_config, write_setup
from marine_watch.settings import Settings

log = structlog.get_logger(__name__)
MOSQUITTO_PATHS = ("mosquitto", "/usr/sbin/mosquitto")
HOST = "127.0.0.1"


@dataclass(frozen=True)
class EmbeddedBroker:
    host: str
    port: int  # field listener: the simulated stations, each with its account
    service_port: int  # service listener: marine_watch itself
    accounts: Accounts
    engine: str = "mosquitto"
    protocol: str = "5"  # MQTT version the engine speaks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def find_mosquitto() -> str | None:
    return next((p for p in (shutil.which(c) for c in MOSQUITTO_PATHS) if p), None)


async def _wait_port(port: int, timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                _, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                await asyncio.sleep(0.05)
            else:
                writer.close()
                await writer.wait_closed()
                return


@asynccontextmanager
async def embedded_broker(
    settings: Settings, stations: Sequence[str], data_dir: Path
) -> AsyncIterator[EmbeddedBroker]:
    """Start a private Mosquitto on free loopback ports, with fresh accounts, for the context."""
    exe = find_mosquitto()
    if exe is None:
        what, msg = "mosquitto", "not installed: run `make system-deps` (Debian package mosquitto)"
        raise ConfigError(what, "-", msg)
    conf_dir = data_dir / "mosquitto"
    service = (settings.mqtt_username or "marine-watch", settings.mqtt_client_id)
    wanted = read_accounts_config(settings.config_dir)
    accounts = plan(list(stations), wanted, service, None)
    layout = Layout(
        accounts_dir=conf_dir,
        persistence_dir=conf_dir / "data",
        port=free_port(),
        bind=HOST,
        service_port=free_port(),
        service_bind=HOST,
        # Started as root, Mosquitto would drop to user "mosquitto", who cannot read these files.
        broker_user=getpass.getuser() if os.geteuid() == 0 else None,
        max_payload_bytes=settings.max_payload_bytes,
    )
    write_setup(accounts, layout, settings.mqtt_topic_root)
    async with _mosquitto(exe, layout, accounts) as broker:
        yield broker


@asynccontextmanager
async def _mosquitto(exe: str, layout: Layout, accounts: Accounts) -> AsyncIterator[EmbeddedBroker]:
    conf = layout.accounts_dir / "mosquitto.conf"
    proc = await asyncio.create_subprocess_exec(
        exe, "-c", str(conf), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        await _wait_port(layout.port)
        await _wait_port(layout.service_port)
        log.info("broker_started", engine="mosquitto", port=layout.port)
        yield EmbeddedBroker(HOST, layout.port, layout.service_port, accounts)
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
