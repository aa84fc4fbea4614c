"""The embedded MQTT broker of ``marine-watch demo``: Mosquitto with generated accounts and ACL.

The demo runs the same scheme as production (docs/SECURITY.md): no anonymous access, one account
per station, the service alone on its own listener. There is no in-process fallback: the pure
Python broker we used (amqtt) cannot bind a client id to an account, so any client could take over
the service's session. Install Mosquitto (`make system-deps`, Debian package ``mosquitto``).

Mosquitto runs as the invoking user, in a session of its own, with a parent-death signal: a Ctrl-C
to the terminal's process group reaches the demo (which stops the service first and the broker
last), and a demo killed outright takes its broker along.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog

from marine_watch.errors import ConfigError
from marine_watch.mqtt.accounts import (
    ACCOUNTS_JSON,
    Accounts,
    plan,
    read_accounts_config,
    write_setup,
)
from marine_watch.mqtt.broker_config import Layout
from marine_watch.settings import Settings

log = structlog.get_logger(__name__)
MOSQUITTO_PATHS = ("mosquitto", "/usr/sbin/mosquitto")
HOST = "127.0.0.1"


@dataclass(frozen=True)
class EmbeddedBroker:
    """A running embedded broker: its listeners, accounts and engine."""

    host: str
    port: int  # field listener: the simulated stations (and `replay`), each with its account
    service_port: int  # service listener: marine_watch itself
    accounts: Accounts
    accounts_file: Path  # accounts.json: every account with its password (`replay --accounts`)
    engine: str = "mosquitto"
    protocol: str = "5"  # MQTT version the engine speaks

    @property
    def url(self) -> str:
        """The field listener, as `replay --broker` and `simulate --broker` take it."""
        return f"mqtt://{self.host}:{self.port}"


def free_port() -> int:
    """A TCP port free on the broker host now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """Whether a listener could bind ``host:port`` now."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def find_mosquitto() -> str | None:
    """The path of a mosquitto executable, or None when none is installed."""
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


def invoking_user() -> str | None:
    """The name of the user this process runs as; None for a uid without one (not root, and only a
    broker started as root switches users)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return None


@asynccontextmanager
async def embedded_broker(
    settings: Settings, stations: Sequence[str], data_dir: Path, *, port: int | None = None
) -> AsyncIterator[EmbeddedBroker]:
    """Start a private Mosquitto with fresh accounts for the context's life: the field listener on
    loopback ``port`` (a free one by default), the service listener on a free loopback port."""
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
        port=port or free_port(),
        bind=HOST,
        service_port=free_port(),
        service_bind=HOST,
        # Run as this user: started as root, Mosquitto would switch to user "mosquitto", who cannot
        # read these 0600 files, and the switch would clear the parent-death signal set below.
        broker_user=invoking_user(),
        max_payload_bytes=settings.max_payload_bytes,
    )
    write_setup(accounts, layout, settings.mqtt_topic_root)
    async with _mosquitto(exe, layout, accounts) as broker:
        yield broker


@asynccontextmanager
async def _mosquitto(exe: str, layout: Layout, accounts: Accounts) -> AsyncIterator[EmbeddedBroker]:
    conf = layout.accounts_dir / "mosquitto.conf"
    # Its own session: a Ctrl-C to the terminal's process group reaches the demo, which stops the
    # service first and the broker last; dies_with_parent covers a parent killed outright.
    proc = await asyncio.create_subprocess_exec(
        exe,
        "-c",
        str(conf),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=dies_with_parent(),
    )
    try:
        await _wait_port(layout.port)
        await _wait_port(layout.service_port)
        log.info(
            "broker_started",
            engine="mosquitto",
            port=layout.port,
            service_port=layout.service_port,
            pid=proc.pid,
        )
        accounts_file = layout.accounts_dir / ACCOUNTS_JSON
        yield EmbeddedBroker(HOST, layout.port, layout.service_port, accounts, accounts_file)
    finally:
        await _stop(proc)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Terminate the broker (if it is still running) and reap it; kill it after 10 s."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):  # it may have exited on its own meanwhile
            proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 10)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
    log.info("broker_stopped", engine="mosquitto", returncode=proc.returncode)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def dies_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when this process dies (even by SIGKILL).

    prctl(PR_SET_PDEATHSIG) through ctypes: the packages that wrap prctl are unmaintained, and this is
    one call. The signal follows the thread that forked, here the event loop's (main) thread. On
    other systems: None, and the broker is only stopped on an orderly exit.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def set_parent_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return set_parent_death_signal
