"""Ingest's manual acknowledgement: pinned to the installed aiomqtt, and proven against Mosquitto."""

import asyncio
import json
from importlib.metadata import version
from pathlib import Path

import aiomqtt
import paho.mqtt.client as paho
import pytest

from marine_watch.ingest.subscriber import subscription
from marine_watch.mqtt.session import ManualAck, make_client
from marine_watch.settings import Settings
from tests.helpers import CONFIG
from tests.services import Broker, scaled

CONFIG_DIR = CONFIG


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3])


def test_aiomqtt_and_paho_versions_are_the_ones_manual_ack_was_checked_against() -> None:
    """ManualAck reaches the private Client._client: only aiomqtt 2.5.x on paho 2.x was checked."""
    assert (2, 5, 0) <= _release(version("aiomqtt")) < (2, 6, 0), version("aiomqtt")
    assert (2, 1, 0) <= _release(version("paho-mqtt")) < (3, 0, 0), version("paho-mqtt")


def _settings(broker: Broker, topic_root: str, client_id: str) -> Settings:
    return Settings(
        config_dir=CONFIG_DIR,
        mqtt_url=broker.url,
        mqtt_topic_root=topic_root,
        mqtt_client_id=client_id,
    )


async def test_the_private_paho_client_is_where_aiomqtt_keeps_it(
    tmp_path: Path, topic_root: str
) -> None:
    """aiomqtt still wraps a paho Client in ``_client``, with manual_ack_set and ack."""
    settings = _settings(Broker("127.0.0.1", 1, tmp_path, tmp_path, "none"), topic_root, "x")
    client = make_client(settings)
    inner = client._client
    assert isinstance(inner, paho.Client)
    ManualAck(client)
    assert inner._manual_ack is True


async def _publish(broker: Broker, topic: str, payloads: list[bytes]) -> None:
    async with aiomqtt.Client(broker.host, broker.port, identifier=f"{topic}-pub") as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=1)


async def _receive(client: aiomqtt.Client, n: int) -> list[aiomqtt.Message]:
    got: list[aiomqtt.Message] = []
    async with asyncio.timeout(scaled(10)):
        async for message in client.messages:
            got.append(message)
            if len(got) == n:
                return got
    return got


@pytest.mark.services
@pytest.mark.timeout(60)
async def test_a_message_not_acked_is_redelivered_to_the_same_client_id(
    mosquitto: Broker, topic_root: str, mqtt_client_id: str
) -> None:
    """Received but not acked, then disconnected: the broker redelivers it on reconnect; acked: never."""
    settings = _settings(mosquitto, topic_root, mqtt_client_id)
    topic = f"{topic_root}/zhapu/tide_level"
    client = make_client(settings)
    acks = ManualAck(client)
    async with client:
        acks.new_connection()
        await client.subscribe(subscription(settings), qos=1)
        await _publish(mosquitto, topic, [b'{"n": 1}', b'{"n": 2}'])
        first, second = await _receive(client, 2)
        acks.acker(second)()  # only the second one becomes durable
    assert [json.loads(m.payload)["n"] for m in (first, second)] == [1, 2]

    async with client:  # same client id, persistent session
        acks.new_connection()
        acks.acker(first)()  # an id of the old connection: must not ack anything now
        (again,) = await _receive(client, 1)
        assert json.loads(again.payload) == {"n": 1}
        acks.acker(again)()
        await _publish(mosquitto, topic, [b'{"n": 3}'])
        (fresh,) = await _receive(client, 1)
        assert json.loads(fresh.payload) == {"n": 3}
        acks.acker(fresh)()

    async with client:
        acks.new_connection()
        await _publish(mosquitto, topic, [b'{"n": 4}'])
        (only,) = await _receive(client, 1)
        assert json.loads(only.payload) == {"n": 4}, "an acked message came back"
        acks.acker(only)()
