"""The embedded MQTT broker of ``marine-watch demo``: Mosquitto if installed, else amqtt in-process."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    data_dir: Path, *, prefer: str = "mosquitto"
) -> AsyncIterator[EmbeddedBroker]:
    """Start a private broker on a free loopback port for the lifetime of the context."""
    port = free_port()
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
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {conf_dir}/\nmax_queued_messages 1000000\nmax_inflight_messages 0\n"
        "log_type error\nlog_type warning\n"
    )
    proc = await asyncio.create_subprocess_exec(
        exe, "-c", str(conf), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        await _wait_port(port)
        log.info("broker_started", engine="mosquitto", port=port)
        yield EmbeddedBroker("127.0.0.1", port, "mosquitto", "5")
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


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
