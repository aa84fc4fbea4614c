"""No single broker: the service on a real 3-node NATS cluster (JetStream, MQTT 3.1.1) loses a node.

The service is given all three MQTT listeners (``MARINE_WATCH_MQTT_URL``, comma-separated) and
``MARINE_WATCH_MQTT_PROTOCOL=3.1.1``. NATS keeps the persistent session, the QoS 1 queue and the
retained messages in JetStream streams replicated to all three nodes (``stream_replicas: 3``), so
whichever node the service moves to holds its session. Every test checks InfluxDB point by point:
each published reading is stored exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import aiomqtt
import httpx
import pytest

from marine_watch.mqtt.accounts import AccountsIn, ForecasterIn, ReaderIn, plan
from marine_watch.mqtt.client import Account
from marine_watch.mqtt.nats_accounts import render_nats_users
from marine_watch.mqtt.session import ManualAck, make_client
from marine_watch.settings import Settings
from tests.integration.conftest import Running, serve
from tests.integration.test_faults import START_MS, readings, wait_stored
from tests.nats_cluster import NatsCluster, NatsUser, start_cluster
from tests.services import CONFIG_DIR, HOST, Influx, free_port, scaled

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]

SERVICE = "marine-watch"
STATION = "station-zhapu"
N = 240  # readings, one a message
HEALTHY_AGAIN_S = 30.0  # acceptance: /health ok again within 30 s of the kill


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    nats = start_cluster(tmp_path / "nats", (SERVICE, STATION))
    yield nats
    nats.stop()


def cluster_settings(
    make_settings: Callable[..., Settings], nats: NatsCluster, influx: Influx, db: str
) -> Settings:
    user = nats.user(SERVICE)
    settings: Settings = make_settings(
        SimpleNamespace(url=nats.mqtt_url_list),
        influx=influx,
        influx_db=db,
        mqtt_protocol="3.1.1",
        mqtt_username=user.name,
        mqtt_password=user.password,
    )
    return settings


def nats_client(
    port: int,
    identifier: str,
    username: str | None,
    password: str | None,
    *,
    timeout: float | None = None,
) -> aiomqtt.Client:
    """A plain MQTT 3.1.1 client of one NATS node (NATS 2.9 speaks no MQTT 5)."""
    return aiomqtt.Client(
        HOST,
        port,
        identifier=identifier,
        username=username,
        password=password,
        protocol=aiomqtt.ProtocolVersion.V311,
        timeout=timeout,
    )


async def publish_through(
    port: int,
    user: NatsUser,
    messages: list[tuple[str, bytes]],
    *,
    after: Callable[[int], Awaitable[None]] | None = None,
    retain: bool = False,
) -> float:
    """Publish at QoS 1 through one node, each after the previous PUBACK; resend what had none.

    Returns the longest time one message waited for its acknowledgement (the cluster's own gap).
    """
    sent, longest = 0, 0.0
    async with asyncio.timeout(scaled(150)):
        while sent < len(messages):
            with contextlib.suppress(aiomqtt.MqttError):
                async with nats_client(
                    port, f"pub-{user.name}", user.name, user.password, timeout=5
                ) as client:
                    while sent < len(messages):
                        topic, payload = messages[sent]
                        began = time.monotonic()
                        await client.publish(topic, payload, qos=1, retain=retain, timeout=5)
                        longest = max(longest, time.monotonic() - began)
                        sent += 1
                        if after is not None:
                            await after(sent)
            await asyncio.sleep(0.2)  # the node is electing stream leaders: try again shortly
    return longest


async def healthy_after(base: str, killed_at: float) -> float:
    """Seconds from ``killed_at`` until /health answers ok (polled every 0.2 s)."""
    async with httpx.AsyncClient(base_url=base, timeout=2.0) as http:
        async with asyncio.timeout(scaled(90)):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/health")).status_code == httpx.codes.OK:
                        return time.monotonic() - killed_at
                await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Running]:
    async with serve(settings) as node:
        yield node


def service_node(node: Running, nats: NatsCluster) -> int:
    return nats.index_of(node.services.ingest.link.current.port)


async def node_of(base: str, nats: NatsCluster) -> int:
    """The node ingest is on, as the service's /health says."""
    async with httpx.AsyncClient(base_url=base, timeout=5.0) as http:
        url = (await http.get("/health")).json()["mqtt_brokers"]["ingest"]["broker"]
    return nats.index_of(int(url.rsplit(":", 1)[1]))


async def kill_mid_stream(
    nats: NatsCluster, base: str, influx: Influx, db: str, topic_root: str, victim: int
) -> dict[str, float]:
    """Publish N readings through a node that survives, SIGKILL node ``victim`` after a third;
    every reading must be stored exactly once."""
    killed: dict[str, float] = {}
    on = await node_of(base, nats)
    through = next(i for i in range(3) if i not in (victim, on))

    async def after(sent: int) -> None:
        if sent == N // 3:
            nats.kill(victim)
            killed["at"] = time.monotonic()
        await asyncio.sleep(0.01)  # a station's pace, so the kill lands mid-stream

    messages = readings(topic_root, N)
    publisher = asyncio.create_task(
        publish_through(
            nats.nodes[through].ports["mqtt"], nats.user(SERVICE), messages, after=after
        )
    )
    async with asyncio.timeout(scaled(60)):
        while "at" not in killed:  # noqa: ASYNC110 - set by the publisher's callback
            await asyncio.sleep(0.05)
    healthy_s = await healthy_after(base, killed["at"])
    longest_ack_s = await publisher
    times = await wait_stored(influx, db, N, within_s=120)
    expected = [(START_MS + 1000 * i) * 1_000_000 for i in range(N)]
    assert sorted(times) == expected, f"{len(times)} points for {N} readings"
    print(
        f"node {victim} killed: /health ok after {healthy_s:.1f} s, longest PUBACK {longest_ack_s:.1f} s"
    )
    return {"healthy_s": healthy_s, "longest_ack_s": longest_ack_s}


async def test_the_service_node_killed_mid_stream_loses_and_doubles_nothing(
    cluster: NatsCluster,
    influxd: Influx,
    influx_db: str,
    make_settings: Callable[..., Settings],
    topic_root: str,
) -> None:
    """Acceptance: the node the service is on is SIGKILLed while readings flow through another
    node; every reading is stored exactly once, /health is ok again within 30 s, the failover is
    counted and the service is on another node."""
    settings = cluster_settings(make_settings, cluster, influxd, influx_db)
    async with serving(settings) as node:
        before = service_node(node, cluster)
        result = await kill_mid_stream(cluster, node.http, influxd, influx_db, topic_root, before)
        assert result["healthy_s"] <= HEALTHY_AGAIN_S, result
        link = node.services.ingest.link
        assert link.failovers >= 1
        assert service_node(node, cluster) != before
        async with httpx.AsyncClient(base_url=node.http, timeout=5.0) as http:
            health = (await http.get("/health")).json()
        assert health["mqtt_brokers"]["ingest"]["broker"] == link.current.url
        assert health["mqtt_brokers"]["ingest"]["failovers"] == link.failovers


async def test_a_meta_leader_kill_is_survived_the_same_way(
    cluster: NatsCluster,
    influxd: Influx,
    influx_db: str,
    make_settings: Callable[..., Settings],
    topic_root: str,
) -> None:
    """The JetStream meta leader is SIGKILLed mid-stream (whether or not the service is on it):
    a new leader is elected, every reading stored exactly once, /health ok within 30 s."""
    settings = cluster_settings(make_settings, cluster, influxd, influx_db)
    async with serving(settings) as node:
        leader = cluster.meta_leader_index()
        result = await kill_mid_stream(cluster, node.http, influxd, influx_db, topic_root, leader)
        assert result["healthy_s"] <= HEALTHY_AGAIN_S, result
        elected = await asyncio.to_thread(
            cluster.wait_meta_leader_other_than, cluster.nodes[leader].name
        )
        print(f"meta leader {cluster.nodes[leader].name} killed, {elected} elected")


async def retained_colours(port: int, user: NatsUser, root: str, want: int) -> dict[str, bytes]:
    """The retained messages under ``root/risk/#`` a new subscriber gets from one node (all that
    arrive within 3 s of subscribing), subscribing again until at least ``want`` came.

    With a node down, NATS 2.9 sometimes answers a SUBSCRIBE before it has the retained messages
    at hand (docs/BROKER_CLUSTER.md), so a subscriber that got fewer than it knows exist
    subscribes again, as an API tier would.
    """
    got: dict[str, bytes] = {}
    async with asyncio.timeout(scaled(90)):
        while len(got) < want or not got:
            got = {}
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with nats_client(
                    port, f"reader-{time.monotonic_ns()}", user.name, user.password, timeout=5
                ) as client:
                    await client.subscribe(f"{root}/risk/#", qos=1)
                    async with asyncio.timeout(3):
                        async for message in client.messages:
                            if message.retain:
                                got[message.topic.value] = bytes(message.payload)
    return got


def colours(retained: dict[str, bytes]) -> set[str]:
    """The colours of the places (``risk/{place}``; not ``risk/_station``, ``_node``, ``_alerts``)."""
    places = {t: b for t, b in retained.items() if not t.rsplit("/risk/", 1)[1].startswith("_")}
    return {json.loads(body)["colour"] for body in places.values()}


@pytest.mark.parametrize("lost", [0, 1, 2])
async def test_retained_risk_colours_survive_the_loss_of_any_one_node(
    cluster: NatsCluster,
    influxd: Influx,
    influx_db: str,
    make_settings: Callable[..., Settings],
    topic_root: str,
    lost: int,
) -> None:
    """The service publishes its colours retained (a red tide level at Zhapu); node ``lost`` is
    SIGKILLed; both other nodes still hand every colour to a new subscriber, unchanged."""
    settings = cluster_settings(make_settings, cluster, influxd, influx_db)
    now_ms = int(time.time() * 1000)
    red = [
        (
            f"{topic_root}/zhapu/tide_level",
            json.dumps({"ts": now_ms - 60_000 * i, "value": 5.6, "unit": "m"}).encode(),
        )
        for i in range(3)
    ]
    user = cluster.user(SERVICE)
    witness = cluster.nodes[(lost + 1) % 3].ports["mqtt"]
    async with serving(settings) as node:
        await publish_through(cluster.nodes[0].ports["mqtt"], user, red)
        async with asyncio.timeout(scaled(60)):
            while "red" not in colours(await retained_colours(witness, user, topic_root, 1)):  # noqa: ASYNC110
                await asyncio.sleep(0.5)
        assert not node.crashes
    before = await retained_colours(witness, user, topic_root, 1)  # the service has stopped
    assert "red" in colours(before)
    cluster.kill(lost)
    for survivor in (i for i in range(3) if i != lost):
        after = await retained_colours(
            cluster.nodes[survivor].ports["mqtt"], user, topic_root, len(before)
        )
        assert after == before, f"node {survivor} after node {lost} was killed"


async def test_two_partitioned_ingest_nodes_split_the_coast_without_shared_subscriptions(
    cluster: NatsCluster,
    influxd: Influx,
    influx_db: str,
    make_settings: Callable[..., Settings],
    topic_root: str,
    tmp_path: Path,
) -> None:
    """NATS has no ``$share``: two ingest nodes take the two parts of config/ingest_partitions.toml;
    each stores only its own stations' readings, and between them every reading once."""
    base = cluster_settings(make_settings, cluster, influxd, influx_db)

    def node(part: str) -> Settings:
        return base.model_copy(
            update={
                "node_role": "ingest",
                "ingest_partition": part,
                "mqtt_client_id": f"{base.mqtt_client_id}-{part}",
                "data_dir": tmp_path / part,
            }
        )

    n = 60
    gauge = readings(topic_root, n)  # Zhapu tide gauge: part "gauges"
    buoy = [
        (
            f"{topic_root}/buoy-bay/wave_height",
            json.dumps({"ts": START_MS + 1000 * i, "value": 1.0 + 0.01 * i, "unit": "m"}).encode(),
        )
        for i in range(n)
    ]
    async with serving(node("gauges")) as gauges, serving(node("buoys-masts")) as buoys:
        await publish_through(cluster.nodes[1].ports["mqtt"], cluster.user(SERVICE), gauge + buoy)
        times = await wait_stored(influxd, influx_db, 2 * n, within_s=60)
        assert len(times) == 2 * n
        for part, running in (("gauges", gauges), ("buoys-masts", buoys)):
            stored = running.services.metrics.registry.get_sample_value("mw_readings_stored_total")
            assert stored == n, part


async def test_the_3_1_1_in_flight_window_is_the_brokers_bound(
    tmp_path: Path, make_settings: Callable[..., Settings], topic_root: str
) -> None:
    """MQTT 3.1.1 has no Receive Maximum: the broker's window bounds what is in flight to the
    service (NATS ``mqtt.max_ack_pending``). The service's 3.1.1 session, acking nothing, gets
    exactly the window; once it acks, the rest follows."""
    window = 40
    nats = start_cluster(tmp_path / "nats", (SERVICE,), max_ack_pending=window)
    try:
        user = nats.user(SERVICE)
        settings = make_settings(
            SimpleNamespace(url=nats.mqtt_url_list),
            mqtt_protocol="3.1.1",
            mqtt_username=user.name,
            mqtt_password=user.password,
        )
        client = make_client(settings)
        acks = ManualAck(client)
        held: list[Callable[[], None]] = []
        async with client:
            acks.new_connection()
            await client.subscribe(f"{topic_root}/#", qos=1)
            await publish_through(
                nats.nodes[1].ports["mqtt"], user, readings(topic_root, 3 * window)
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(scaled(5)):
                    async for message in client.messages:
                        held.append(acks.acker(message))
            assert len(held) == window
            for ack in held:
                ack()
            more = 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(scaled(5)):
                    async for _ in client.messages:
                        more += 1
            assert more == window  # the next window, unacknowledged again
    finally:
        nats.stop()


async def _session_gets(
    port: int,
    account: Account,
    topic: str,
    seconds: float,
    subscribed: asyncio.Event | None = None,
) -> list[str]:
    """Topics a fresh subscription of ``account`` on ``topic`` receives within ``seconds`` of its
    SUBACK (``subscribed`` is set then)."""
    got: list[str] = []
    async with nats_client(
        port,
        f"{account.username}-{time.monotonic_ns()}",
        account.username,
        account.password,
        timeout=10,
    ) as client:
        await client.subscribe(topic, qos=1)
        if subscribed is not None:
            subscribed.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async for message in client.messages:
                    got.append(message.topic.value)
    return got


async def test_the_generated_nats_accounts_refuse_strangers_and_grant_least_privilege(
    tmp_path: Path,
) -> None:
    """`marine-watch mqtt-accounts` writes nats-users.conf (bcrypt hashes, permissions): on a real
    cluster nobody connects without an account, a station publishes under its own id only, a
    reader reads the colours only, and the service reads everything and writes the colours."""
    root = "marine/v1"
    wanted = AccountsIn(
        readers={"siren": ReaderIn()}, forecasters={"sea": ForecasterIn(source="x")}
    )
    accounts = plan(["zhapu", "dushan"], wanted, ("marine-watch", "mw-ingest"), None)
    conf = render_nats_users(
        accounts.service,
        accounts.stations,
        list(accounts.forecasters.values()),
        list(accounts.readers.values()),
        root,
    )
    assert accounts.service.password not in conf
    everyone = [accounts.service, *accounts.field_accounts()]
    nats = start_cluster(
        tmp_path / "nats", authorization=(conf, {a.username: a.password for a in everyone})
    )
    try:
        port = nats.nodes[0].ports["mqtt"]
        for who in (None, Account("marine-watch", "wrong")):
            with pytest.raises(aiomqtt.MqttError, match=r"135|Not authorized"):
                async with nats_client(
                    port,
                    "stranger",
                    None if who is None else who.username,
                    None if who is None else who.password,
                ):
                    pass
        zhapu, reader = accounts.stations["zhapu"], accounts.readers["siren"]
        service = accounts.service
        ready = asyncio.Event(), asyncio.Event()
        watch = asyncio.create_task(_session_gets(port, service, f"{root}/#", scaled(10), ready[0]))
        spy = asyncio.create_task(_session_gets(port, zhapu, f"{root}/#", scaled(10), ready[1]))
        async with asyncio.timeout(scaled(30)):
            await asyncio.gather(ready[0].wait(), ready[1].wait())
        station_port = nats.nodes[1].ports["mqtt"]
        body = json.dumps({"ts": START_MS, "value": 1.0, "unit": "m"}).encode()
        as_zhapu, as_reader, as_service = (
            NatsUser(a.username, a.password) for a in (zhapu, reader, service)
        )
        await publish_through(station_port, as_zhapu, [(f"{root}/zhapu/tide_level", body)])
        await publish_through(station_port, as_zhapu, [(f"{root}/dushan/tide_level", body)])
        await publish_through(station_port, as_reader, [(f"{root}/risk/zhapu", b"{}")], retain=True)
        await publish_through(
            station_port, as_service, [(f"{root}/risk/dushan", b"{}")], retain=True
        )
        assert await watch == [f"{root}/zhapu/tide_level", f"{root}/risk/dushan"]
        assert await spy == []  # a station reads nothing, not even its own readings
        # the reader's retained colours: the service's, not the one it tried to write itself
        assert await _session_gets(port, reader, f"{root}/risk/#", scaled(3)) == [
            f"{root}/risk/dushan"
        ]
        assert await _session_gets(port, reader, f"{root}/#", scaled(2)) == []  # readings: no
    finally:
        nats.stop()


async def test_marine_watch_serve_given_three_nats_nodes_survives_the_loss_of_its_node(
    cluster: NatsCluster, influxd: Influx, influx_db: str, topic_root: str, tmp_path: Path
) -> None:
    """The acceptance run with the real command: `marine-watch serve` configured only through
    MARINE_WATCH_* (three URLs, MQTT 3.1.1, the password in a file); the node it is on is
    SIGKILLed mid-stream; every reading is stored once and /health is ok within 30 s."""
    user = cluster.user(SERVICE)
    secret = tmp_path / "service.password"
    secret.write_text(user.password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    port = free_port()
    env = {
        **os.environ,
        "MARINE_WATCH_CONFIG_DIR": str(CONFIG_DIR),
        "MARINE_WATCH_DATA_DIR": str(tmp_path / "data"),
        "MARINE_WATCH_MQTT_URL": cluster.mqtt_url_list,
        "MARINE_WATCH_MQTT_PROTOCOL": "3.1.1",
        "MARINE_WATCH_MQTT_USERNAME": user.name,
        "MARINE_WATCH_MQTT_PASSWORD_FILE": str(secret),
        "MARINE_WATCH_MQTT_TOPIC_ROOT": topic_root,
        "MARINE_WATCH_MQTT_CLIENT_ID": f"serve-{uuid.uuid4().hex[:8]}",
        "MARINE_WATCH_STORE": "influxdb",
        "MARINE_WATCH_INFLUX_URL": influxd.url,
        "MARINE_WATCH_INFLUX_DB": influx_db,
        "MARINE_WATCH_HTTP_PORT": str(port),
        "MARINE_WATCH_BATCH_MAX_WAIT_S": "0.05",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            "marine-watch", "serve", env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://{HOST}:{port}"
    try:
        await healthy_after(base, time.monotonic())
        victim = await node_of(base, cluster)
        result = await kill_mid_stream(cluster, base, influxd, influx_db, topic_root, victim)
        assert result["healthy_s"] <= HEALTHY_AGAIN_S, result
        assert await node_of(base, cluster) != victim
        assert user.password not in log.read_text(encoding="utf-8")  # never logged
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), scaled(30))
        print(log.read_text(encoding="utf-8")[-4000:])  # shown when the test fails
    assert code in (0, -signal.SIGTERM)
    assert "Traceback" not in log.read_text(encoding="utf-8")
