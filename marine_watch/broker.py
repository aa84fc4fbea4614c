"""The embedded MQTT broker of ``marine-watch demo``: Mosquitto if installed, else amqtt in-process."""

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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)
MOSQUITTO_PATHS = ("mosquitto", "/usr/sbin/mosquitto")


@dataclass(frozen=True)
class EmbeddedBroker:
    host: str
    port: int
    engine: str  # "mosquitto" | "amqtt"
    protocol: str  # MQTT version the engine speaks: "5" or "3.1.1"

    @property
    def url(self) -> str:
        """The broker as MARINE_WATCH_MQTT_URL takes it."""
        return f"mqtt://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
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
    return next((p for p in (shutil.which(c) for c in MOSQUITTO_PATHS) if p), None)


async def _wait_port(port: int, timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
            else:
                writer.close()
                await writer.wait_closed()
                return


@asynccontextmanager
async def embedded_broker(
    data_dir: Path, *, prefer: str = "mosquitto", port: int | None = None
) -> AsyncIterator[EmbeddedBroker]:
    """Start a private broker on a loopback port (a free one by default) for the context's life."""
    port = port or free_port()
    exe = find_mosquitto() if prefer == "mosquitto" else None
    if exe:
        async with _mosquitto(exe, data_dir, port) as broker:
            yield broker
    else:
        async with _amqtt(port) as broker:
            yield broker


@asynccontextmanager
async def _mosquitto(exe: str, data_dir: Path, port: int) -> AsyncIterator[EmbeddedBroker]:
    conf_dir = data_dir / "mosquitto"
    conf_dir.mkdir(parents=True, exist_ok=True)
    conf = conf_dir / "mosquitto.conf"
    # Queue limits sized for the promised outage (see config/mosquitto.conf).
    # Run as this user: started as root, Mosquitto would switch to user "mosquitto", who cannot write
    # the persistence folder, and the switch would clear the parent-death signal set below.
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {conf_dir}/\nmax_queued_messages 1000000\nmax_inflight_messages 0\n"
        f"user {pwd.getpwuid(os.geteuid()).pw_name}\nlog_type error\nlog_type warning\n"
    )
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
        await _wait_port(port)
        log.info("broker_started", engine="mosquitto", port=port, pid=proc.pid)
        yield EmbeddedBroker("127.0.0.1", port, "mosquitto", "5")
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


@asynccontextmanager
async def _amqtt(port: int) -> AsyncIterator[EmbeddedBroker]:
    from amqtt.broker import Broker

    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    broker = Broker(config)
    await broker.start()  # returns once the listener is bound
    try:
        log.info("broker_started", engine="amqtt", port=port)
        yield EmbeddedBroker("127.0.0.1", port, "amqtt", "3.1.1")
    finally:
        await broker.shutdown()
