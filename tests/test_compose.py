"""The deployment files: docker-compose.yml is valid and wired, config/mosquitto.conf runs and holds a day's queue."""

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; only read here

from marine_watch.cli.main import _parser
from marine_watch.mqtt.accounts import layout_of
from marine_watch.mqtt.broker_config import render_conf
from marine_watch.mqtt.client import Account, MqttEndpoint
from marine_watch.mqtt.nats_accounts import render_nats_users
from marine_watch.settings import load_settings
from tests.security.broker import ROOT as TOPIC_ROOT
from tests.security.broker import SecuredBroker, start_secured
from tests.services import CONFIG_DIR, HOST, find_binary, scaled

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


def mounts(service: dict[str, Any]) -> list[str]:
    """A service's volumes as "source:target" (docker-compose 1.x prints "src:target:mode")."""
    return [
        ":".join(v.split(":")[:2]) if isinstance(v, str) else f"{v['source']}:{v['target']}"
        for v in service["volumes"]
    ]


def test_compose_runs_broker_database_and_service() -> None:
    """Mosquitto 2 with our config and generated accounts, InfluxDB 1.8 with its database, and marine-watch."""
    services = compose_config()["services"]
    default = {name for name, svc in services.items() if not svc.get("profiles")}
    assert default == {"mqtt-accounts", "mosquitto", "influxdb", "marine-watch"}
    broker = services["mosquitto"]
    assert broker["image"] == "eclipse-mosquitto:2"
    assert f"{MOSQUITTO_CONF}:/mosquitto/config/mosquitto.conf" in mounts(broker)
    assert "mqtt-accounts:/mosquitto/accounts" in mounts(broker)
    assert "mqtt-accounts:/mosquitto/accounts" in mounts(services["mqtt-accounts"])
    assert broker["depends_on"] == {
        "mqtt-accounts": {"condition": "service_completed_successfully"}
    }
    assert [int(p["published"]) for p in broker["ports"]] == [
        1883
    ]  # the service listener stays inside
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
        "MARINE_WATCH_MQTT_URL": "mqtt://mosquitto:1884",
        "MARINE_WATCH_MQTT_USERNAME": "marine-watch",
        "MARINE_WATCH_MQTT_PASSWORD_FILE": "/run/mqtt/service.password",
        "MARINE_WATCH_STORE": "influxdb",
        "MARINE_WATCH_INFLUX_URL": "http://influxdb:8086",
        "MARINE_WATCH_INFLUX_DB": "marine_watch",
        "MARINE_WATCH_HTTP_HOST": "0.0.0.0",
        "MARINE_WATCH_HTTP_PORT": "8000",
    }
    assert [(p["target"], int(p["published"])) for p in app["ports"]] == [(8000, 8000)]
    assert "mqtt-accounts:/run/mqtt" in mounts(app)
    assert app["depends_on"] == {
        "mosquitto": {"condition": "service_healthy"},
        "influxdb": {"condition": "service_healthy"},
    }


def conf_lines(text: str) -> list[tuple[str, str]]:
    return [
        (key, value.strip())
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
        for key, _, value in [line.partition(" ")]
    ]


def test_shipped_broker_config_is_what_the_accounts_step_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """config/mosquitto.conf is exactly the mosquitto.conf of compose's `marine-watch mqtt-accounts` run."""
    command = compose_config()["services"]["mqtt-accounts"]["command"]
    assert command[:2] == ["marine-watch", "mqtt-accounts"]
    monkeypatch.setenv("MARINE_WATCH_CONFIG_DIR", str(CONFIG_DIR))
    layout = layout_of(_parser().parse_args(command[1:]), load_settings().max_payload_bytes)
    assert render_conf(layout) == MOSQUITTO_CONF.read_text(encoding="utf-8")


def test_broker_config_refuses_anonymous_and_is_sized_for_a_day_of_outage() -> None:
    """Every listener needs an account; persistence is on and the queue holds 10 stations x 13 kinds x 1/min x 24 h."""
    lines = conf_lines(MOSQUITTO_CONF.read_text(encoding="utf-8"))
    keys = dict(lines)
    day_of_readings = 10 * 13 * 60 * 24
    assert [v for k, v in lines if k == "listener"] == ["1883", "1884 0.0.0.0"]
    assert [v for k, v in lines if k == "allow_anonymous"] == ["false", "false"]
    assert [v for k, v in lines if k == "password_file"] == [
        "/mosquitto/accounts/passwd",
        "/mosquitto/accounts/service.passwd",
    ]
    assert keys["per_listener_settings"] == "true"
    assert keys["persistence"] == "true"
    assert int(keys["max_queued_messages"]) >= day_of_readings
    assert keys["max_queued_bytes"] == "0"
    assert keys["persistent_client_expiration"] == "7d"
    assert 0 < int(keys["max_packet_size"]) <= 2 * 1024 * 1024


async def queued_through_restart(secured: SecuredBroker, client_id: str) -> int:
    """Park the service's persistent session, have a station publish BACKLOG QoS 1 messages,
    restart the broker, count what arrives."""
    service = MqttEndpoint(HOST, secured.service_port, protocol="3.1.1")
    topic = f"{TOPIC_ROOT}/zhapu/tide_level"
    account = secured.accounts.service
    async with service.client(client_id, account, clean_session=False) as sub:
        await sub.subscribe(topic, qos=1)
    async with secured.field.client("station", secured.station("zhapu")) as pub:
        for i in range(BACKLOG):
            await pub.publish(topic, str(i), qos=1)
    await asyncio.to_thread(secured.broker.restart)  # SIGTERM: Mosquitto saves sessions and queues
    received: set[bytes] = set()
    async with service.client(client_id, account, clean_session=False) as sub:
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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mqtt_client_id: str
) -> None:
    """With the generated production config, every queued QoS 1 message of an offline session survives a broker restart."""
    secured = await asyncio.to_thread(start_secured, tmp_path, monkeypatch)
    try:
        received = await queued_through_restart(secured, mqtt_client_id)
    finally:
        await asyncio.to_thread(secured.stop)
    assert received == BACKLOG


@pytest.mark.services
async def test_default_queue_limit_would_lose_the_backlog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mqtt_client_id: str
) -> None:
    """Control: with Mosquitto's default max_queued_messages (1000) most of the same backlog is dropped."""
    secured = await asyncio.to_thread(
        start_secured, tmp_path, monkeypatch, extra_conf="max_queued_messages 1000"
    )
    try:
        received = await queued_through_restart(secured, mqtt_client_id)
    finally:
        await asyncio.to_thread(secured.stop)
    assert received < BACKLOG / 2, received


def _cluster() -> dict[str, Any]:
    services = compose_config()["services"]
    return {n: s for n, s in services.items() if "cluster" in s.get("profiles", [])}


def test_cluster_profile_runs_ingest_risk_per_region_api_nodes_and_haproxy() -> None:
    """Profile "cluster": 2 ingest nodes in one shared group, one risk node per region of config/,
    2 API nodes with a reader account each, HAProxy in front of them with deploy/'s config."""
    from marine_watch.coast import load_catalogue
    from marine_watch.mqtt.accounts import read_accounts_config
    from marine_watch.risk.regions import all_regions

    services = compose_config()["services"]
    cluster = _cluster()
    env = {n: s.get("environment", {}) for n, s in cluster.items()}
    role = {n: e.get("MARINE_WATCH_NODE_ROLE") for n, e in env.items()}
    ingest = [n for n, r in role.items() if r == "ingest"]
    assert len(ingest) == 2
    assert {env[n]["MARINE_WATCH_MQTT_SHARED_GROUP"] for n in ingest} == {"ingest"}
    assert len({env[n]["MARINE_WATCH_MQTT_CLIENT_ID"] for n in ingest}) == 2
    assert all(env[n]["MARINE_WATCH_STORE"] == "influxdb" for n in ingest)
    risk = [n for n, r in role.items() if r == "risk"]
    regions = [env[n]["MARINE_WATCH_REGIONS"] for n in risk]
    assert sorted(regions) == sorted(all_regions(load_catalogue(CONFIG_DIR)))
    assert not any(env[n]["MARINE_WATCH_MQTT_SHARED_GROUP"] for n in risk)
    assert len({env[n]["MARINE_WATCH_MQTT_CLIENT_ID"] for n in risk}) == len(risk)
    api = [n for n, r in role.items() if r == "api"]
    assert len(api) == 2
    readers = set(read_accounts_config(CONFIG_DIR).readers)
    accounts = [env[n]["MARINE_WATCH_MQTT_USERNAME"] for n in api]
    assert sorted(accounts) == ["reader-api-1", "reader-api-2"]
    assert {a.removeprefix("reader-") for a in accounts} <= readers
    for n in api:  # the field listener, never the service's; no store of their own
        assert env[n]["MARINE_WATCH_MQTT_URL"] == "mqtt://mosquitto:1883"
        assert "MARINE_WATCH_STORE" not in env[n]
        assert "ports" not in cluster[n]  # reached through HAProxy only
    haproxy = cluster["haproxy"]
    assert haproxy["image"].startswith("haproxy:")
    assert [int(p["published"]) for p in haproxy["ports"]] == [8080]
    address = haproxy["networks"]["cluster"]["ipv4_address"]
    assert all(env[n]["MARINE_WATCH_FORWARDED_ALLOW_IPS"] == address for n in api)
    render = cluster["haproxy-config"]["command"]
    assert render[1] == "/deploy/haproxy/render.py"
    servers = [render[i + 1] for i, a in enumerate(render) if a == "--server"]
    assert servers == [f"{n}={n}:8000" for n in api]
    assert set(haproxy["depends_on"]) == {"haproxy-config", *api}
    assert "marine-watch" not in cluster
    assert "profiles" not in services["marine-watch"]


def test_cluster_haproxy_config_renders_and_passes_haproxy_check(tmp_path: Path) -> None:
    """The compose profile's render command, run here, gives a config `haproxy -c` accepts."""
    render = _cluster()["haproxy-config"]["command"]
    args = [a.replace("/deploy/", str(ROOT / "deploy") + "/") for a in render[1:]]
    out = tmp_path / "haproxy.cfg"
    args[args.index("-o") + 1] = str(out)
    args[args.index("--admin-socket") + 1] = str(tmp_path / "admin.sock")
    done = subprocess.run(["python3", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    for name in ("api-1", "api-2"):
        assert f"server {name} {name}:8000" in text
    # compose's DNS names do not resolve here: check the same file with the names as addresses
    local = tmp_path / "local.cfg"
    local.write_text(text.replace("api-1:8000", "127.0.0.1:1").replace("api-2:8000", "127.0.0.1:2"))
    exe = find_binary("haproxy", "haproxy")
    check = subprocess.run(
        [exe, "-c", "-f", str(local)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


NATS_DIR = ROOT / "deploy" / "nats"


def test_the_broker_cluster_profile_gives_the_service_three_nats_nodes() -> None:
    """`--profile broker-cluster`: three NATS nodes with MQTT and the generated accounts, and a
    marine-watch given all three (MQTT 3.1.1), starting once every node is healthy."""
    services = compose_config()["services"]
    profiled = {
        name for name, svc in services.items() if "broker-cluster" in svc.get("profiles", [])
    }
    assert profiled == {"nats-1", "nats-2", "nats-3", "marine-watch-nats"}
    for i in (1, 2, 3):
        node = services[f"nats-{i}"]
        assert node["image"].startswith("nats:2.9")
        assert f"{NATS_DIR / f'nats-{i}.conf'}:/etc/nats/nats.conf" in mounts(node)
        assert "mqtt-accounts:/etc/nats/accounts" in mounts(node)
        assert "healthcheck" in node
    app = services["marine-watch-nats"]
    env = app["environment"]
    assert env["MARINE_WATCH_MQTT_URL"].split(",") == [f"mqtt://nats-{i}:1883" for i in (1, 2, 3)]
    assert env["MARINE_WATCH_MQTT_PROTOCOL"] == "3.1.1"
    assert env["MARINE_WATCH_MQTT_PASSWORD_FILE"] == "/run/mqtt/service.password"
    assert load_settings(
        mqtt_url=env["MARINE_WATCH_MQTT_URL"], mqtt_protocol="3.1.1"
    ).mqtt_urls == tuple(env["MARINE_WATCH_MQTT_URL"].split(","))
    assert app["depends_on"] == {
        **{f"nats-{i}": {"condition": "service_healthy"} for i in (1, 2, 3)},
        "influxdb": {"condition": "service_healthy"},
    }


@pytest.mark.parametrize("i", [1, 2, 3])
def test_each_nats_node_config_is_valid_and_routes_to_the_other_two(i: int, tmp_path: Path) -> None:
    """deploy/nats/nats-N.conf passes `nats-server -t` with the accounts file mqtt-accounts writes;
    it names itself, routes to the two others and replicates MQTT state to all three."""
    exe = find_binary("nats-server", "nats-server")
    text = (NATS_DIR / f"nats-{i}.conf").read_text(encoding="utf-8")
    assert f"server_name: nats-{i}" in text
    others = [j for j in (1, 2, 3) if j != i]
    assert f"routes: [{', '.join(f'nats-route://nats-{j}:6222' for j in others)}]" in text
    assert "stream_replicas: 3" in text
    assert 'include "accounts/nats-users.conf"' in text
    (tmp_path / "accounts").mkdir()
    account = Account("marine-watch", "not-a-real-password")
    (tmp_path / "accounts" / "nats-users.conf").write_text(
        render_nats_users(account, {}, [], [], TOPIC_ROOT), encoding="utf-8"
    )
    (tmp_path / "nats.conf").write_text(text, encoding="utf-8")
    done = subprocess.run(
        [exe, "-c", str(tmp_path / "nats.conf"), "-t"],
        capture_output=True,
        text=True,
        timeout=scaled(30),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
