"""Shared fixtures: private servers (session, sync, processes only) and per-test names and stores."""

import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from hypothesis import settings

from marine_watch import logs
from marine_watch.settings import Settings
from marine_watch.store import Store
from marine_watch.store.factory import open_store
from tests.services import CONFIG_DIR, Broker, Influx, start_influxd, start_mosquitto

pytest_plugins = ("tests.netns",)  # the `netns` fixture: hosts in network namespaces

# Property tests assert behaviour, never speed (speed lives in benchmarks/): no per-example
# deadline, which a loaded machine would trip. One place for the profiles, loaded once.
settings.register_profile("ci", deadline=None, derandomize=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _logging_left_as_found(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A CLI run in-process (hindcast, check-config...) configures logging for a terminal, with
    loggers cached on first use: later tests could no longer capture those loggers' events. Here
    loggers are never cached, and each test leaves structlog and the root logger as it found them."""
    configure = logs.configure

    def uncached(level: str = "INFO") -> None:
        configure(level)
        structlog.configure(cache_logger_on_first_use=False)

    monkeypatch.setattr(logs, "configure", uncached)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """The session's private Mosquitto (no persistence); never stop it in a test."""
    broker = start_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influx]:
    """The session's private InfluxDB; never stop it in a test (use ``private_influxd``)."""
    influx = start_influxd(tmp_path_factory.mktemp("influxd"))
    yield influx
    influx.stop()


@pytest.fixture
def private_mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A Mosquitto of this test alone, with persistence, to kill and restart."""
    broker = start_mosquitto(tmp_path / "mosquitto", persistence=True)
    yield broker
    broker.stop()


@pytest.fixture
def private_influxd(tmp_path: Path) -> Iterator[Influx]:
    """An InfluxDB of this test alone, to stop and start."""
    influx = start_influxd(tmp_path / "influxd")
    yield influx
    influx.stop()


@pytest.fixture
async def influx_db(influxd: Influx) -> AsyncIterator[str]:
    """A database of this test alone on the session's InfluxDB, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(base_url=influxd.url, timeout=10.0) as http:
        (await http.post("/query", params={"q": f'CREATE DATABASE "{name}"'})).raise_for_status()
        yield name
        await http.post("/query", params={"q": f'DROP DATABASE "{name}"'})


@pytest.fixture
def topic_root() -> str:
    """An MQTT topic root of this test alone."""
    return f"t/{uuid.uuid4().hex[:12]}/marine/v1"


@pytest.fixture
def mqtt_client_id() -> str:
    """An MQTT client id of this test alone (persistent sessions are keyed by it)."""
    return f"marine-watch-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["sqlite", pytest.param("influxdb", marks=pytest.mark.services)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An open, empty store of each kind: a temp SQLite file, or a fresh database on ``influxd``."""
    if request.param == "sqlite":
        async with open_store("sqlite", sqlite_path=tmp_path / "readings.sqlite3") as opened:
            yield opened
        return
    influx: Influx = request.getfixturevalue("influxd")
    name = f"t_{uuid.uuid4().hex[:12]}"
    async with open_store("influxdb", influx_url=influx.url, influx_db=name) as opened:
        yield opened
        async with httpx.AsyncClient(base_url=influx.url, timeout=10.0) as http:
            await http.post("/query", params={"q": f'DROP DATABASE "{name}"'})


@pytest.fixture
def make_settings(tmp_path: Path, topic_root: str, mqtt_client_id: str) -> Callable[..., Settings]:
    """Settings of this test alone: its own topic root, client id and data dir."""

    def make(
        broker: Broker,
        *,
        influx: Influx | None = None,
        influx_db: str | None = None,
        **extra: object,
    ) -> Settings:
        values: dict[str, Any] = {
            "config_dir": CONFIG_DIR,
            "data_dir": tmp_path / "data",
            "mqtt_url": broker.url,
            "mqtt_topic_root": topic_root,
            "mqtt_client_id": mqtt_client_id,
            "risk_tick_s": 0.5,
            "store": "sqlite",
            "batch_max_wait_s": 0.05,
        }
        if influx is not None:
            values.update(store="influxdb", influx_url=influx.url, influx_db=influx_db)
        values.update(extra)
        return Settings(**values)

    return make
