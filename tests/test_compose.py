"""The deployment files: docker-compose.yml is valid and wired, config/mosquitto.conf runs and holds a day's queue."""

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; only read here

from tests.services import HOST, Broker, find_binary, free_port, scaled

ROOT = Path(__file__).resolve().parents[1]
MOSQUITTO_CONF = ROOT / "config" / "mosquitto.conf"
BACKLOG = 5_000  # five times Mosquitto's default max_queued_messages


def compose_config() -> dict[str, Any]:
    """The compose file as docker-compose resolves it (fails the test if docker-compose is missing)."""
    exe = find_binary("docker-compose", "docker-compose")
    done = subprocess.run(
        [exe, "-f", str(ROOT / "docker-compose.yml"), "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=scaled(60),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def test_compose_file_is_valid() -> None:
    """`docker-compose config -q` accepts the file."""
    exe = find_binary("docker-compose", "docker-compose")
    done = subprocess.run(
        [exe, "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=scaled(60),
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_compose_runs_broker_database_and_service() -> None:
    """Three services: Mosquitto 2 with our config, InfluxDB 1.8 with its database, and marine-watch."""
    services = compose_config()["services"]
    assert set(services) == {"mosquitto", "influxdb", "marine-watch"}
    broker = services["mosquitto"]
    assert broker["image"] == "eclipse-mosquitto:2"
    # docker-compose 1.x prints volumes short ("src:target:mode"), 2.x as mappings
    mounts = [
        v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in broker["volumes"]
    ]
    assert any(m.startswith(f"{MOSQUITTO_CONF}:/mosquitto/config/mosquitto.conf") for m in mounts)
    influx = services["influxdb"]
    assert influx["image"] == "influxdb:1.8"
    assert influx["environment"]["INFLUXDB_DB"] == "marine_watch"
    assert "healthcheck" in broker
    assert "healthcheck" in influx


def test_compose_points_marine_watch_at_its_broker_and_database() -> None:
    """marine-watch serves on 8000, talks to the compose broker and InfluxDB, and starts once both are healthy."""
    app = compose_config()["services"]["marine-watch"]
    assert app["command"] == ["marine-watch", "serve"]
    assert app["environment"] == {
        "MARINE_WATCH_MQTT_URL": "mqtt://mosquitto:1883",
        "MARINE_WATCH_STORE": "influxdb",
        "MARINE_WATCH_INFLUX_URL": "http://influxdb:8086",
        "MARINE_WATCH_INFLUX_DB": "marine_watch",
        "MARINE_WATCH_HTTP_HOST": "0.0.0.0",
        "MARINE_WATCH_HTTP_PORT": "8000",
    }
    assert [(p["target"], int(p["published"])) for p in app["ports"]] == [(8000, 8000)]
    assert app["depends_on"] == {
        "mosquitto": {"condition": "service_healthy"},
        "influxdb": {"condition": "service_healthy"},
    }


def conf_keys(text: str) -> dict[str, str]:
    return dict(
        line.split(None, 1)
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def test_broker_config_is_sized_for_a_day_of_outage() -> None:
    """Persistence is on and the queue holds 10 stations x 13 kinds x 1/min x 24 h readings."""
    keys = conf_keys(MOSQUITTO_CONF.read_text(encoding="utf-8"))
    day_of_readings = 10 * 13 * 60 * 24
    assert keys["listener"] == "1883"
    assert keys["persistence"] == "true"
    assert int(keys["max_queued_messages"]) >= day_of_readings
    assert keys["max_queued_bytes"] == "0"
    assert keys["persistent_client_expiration"] == "7d"


def local_copy(tmp_path: Path, extra_conf: str = "") -> Broker:
    """config/mosquitto.conf, moved to a free loopback port and this test's temp dir."""
    port = free_port()
    swaps = {
        "listener": f"listener {port} {HOST}",
        "persistence_location": f"persistence_location {tmp_path}/",
        "log_dest": f"log_dest file {tmp_path / 'mosquitto.log'}",
    }
    lines = []
    for line in MOSQUITTO_CONF.read_text(encoding="utf-8").splitlines():
        key = line.split(None, 1)[0] if line.strip() else ""
        lines.append(swaps.pop(key, line))
    assert swaps == {}, f"keys missing from {MOSQUITTO_CONF}: {sorted(swaps)}"
    if (
        os.geteuid() == 0
    ):  # otherwise Mosquitto drops to user "mosquitto", who cannot write tmp_path
        lines.append("user root")
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("\n".join([*lines, extra_conf, ""]), encoding="utf-8")
    broker = Broker(
        HOST, port, conf, tmp_path / "mosquitto.out", find_binary("mosquitto", "mosquitto")
    )
    broker.start()
    return broker


async def queued_through_restart(broker: Broker, topic: str, client_id: str) -> int:
    """Park a persistent session, publish BACKLOG QoS 1 messages, restart the broker, count what arrives."""
    async with aiomqtt.Client(HOST, broker.port, identifier=client_id, clean_session=False) as sub:
        await sub.subscribe(topic, qos=1)
    async with aiomqtt.Client(HOST, broker.port) as pub:
        for i in range(BACKLOG):
            await pub.publish(topic, str(i), qos=1)
    await asyncio.to_thread(broker.restart)  # SIGTERM: Mosquitto saves sessions and queues
    received: set[bytes] = set()
    async with aiomqtt.Client(HOST, broker.port, identifier=client_id, clean_session=False) as sub:
        messages = aiter(sub.messages)
        while len(received) < BACKLOG:
            try:
                message = await asyncio.wait_for(anext(messages), scaled(1))
            except TimeoutError:
                break  # a second of silence: the broker has nothing more queued for us
            assert isinstance(message.payload, bytes)
            received.add(message.payload)
    return len(received)


@pytest.mark.services
async def test_broker_config_keeps_a_backlog_through_a_restart(
    tmp_path: Path, topic_root: str, mqtt_client_id: str
) -> None:
    """With the production config, every queued QoS 1 message of an offline session survives a broker restart."""
    broker = await asyncio.to_thread(local_copy, tmp_path)
    try:
        received = await queued_through_restart(
            broker, f"{topic_root}/PH01/tide_level", mqtt_client_id
        )
    finally:
        await asyncio.to_thread(broker.stop)
    assert received == BACKLOG


@pytest.mark.services
async def test_default_queue_limit_would_lose_the_backlog(
    tmp_path: Path, topic_root: str, mqtt_client_id: str
) -> None:
    """Control: with Mosquitto's default max_queued_messages (1000) most of the same backlog is dropped."""
    broker = await asyncio.to_thread(local_copy, tmp_path, "max_queued_messages 1000")
    try:
        received = await queued_through_restart(
            broker, f"{topic_root}/PH01/tide_level", mqtt_client_id
        )
    finally:
        await asyncio.to_thread(broker.stop)
    assert received < BACKLOG / 2, received
