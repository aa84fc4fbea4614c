"""Several brokers per client: MARINE_WATCH_MQTT_URL as a list, checked; each client moves on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import aiomqtt
import httpx
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError

from marine_watch.metrics import Metrics
from marine_watch.mqtt.client import BrokerLink, Brokers, MqttEndpoint, config_failure
from marine_watch.mqtt.session import Backoff, check_granted
from marine_watch.settings import MAX_BROKERS, Settings
from tests.integration.conftest import serve
from tests.services import HOST, Broker, free_port, scaled


def test_a_list_of_brokers_keeps_its_order() -> None:
    settings = Settings(mqtt_url="mqtt://a:1883, mqtt://b:2883,mqtt://c")
    assert settings.mqtt_urls == ("mqtt://a:1883", "mqtt://b:2883", "mqtt://c")
    assert (settings.mqtt_host, settings.mqtt_port) == ("a", 1883)
    assert [e.url for e in MqttEndpoint.all_of_service(settings)] == [
        "mqtt://a:1883",
        "mqtt://b:2883",
        "mqtt://c:1883",
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("mqtt://a:1883,mqtts://b:8883", "same scheme"),
        ("mqtt://a:1883,http://b:80", "mqtt://host:port"),
        ("mqtt://a:1883,mqtt://a:1883", "listed twice"),
        (",".join(f"mqtt://h{i}:1883" for i in range(MAX_BROKERS + 1)), f"one to {MAX_BROKERS}"),
        (" , ", f"one to {MAX_BROKERS}"),
        ("mqtt://a:1883,mqtt://svc:secret@b:1883", "no account in the URL"),
        ("mqtt://a:port", "must be a number"),
    ],
)
def test_a_bad_broker_list_is_refused(value: str, problem: str) -> None:
    with pytest.raises(ValidationError) as err:
        Settings(mqtt_url=value)
    assert problem in str(err.value)


def test_a_link_moves_round_robin_and_counts_failovers() -> None:
    metrics = Metrics()
    links = Brokers(Settings(mqtt_url="mqtt://a:1,mqtt://b:2,mqtt://c:3"), metrics)
    link = links.link("ingest")
    assert links.status() == {}  # not started yet: not reported
    link.up()
    assert links.status() == {"ingest": {"broker": "mqtt://a:1", "connected": True, "failovers": 0}}
    for expected in ("mqtt://b:2", "mqtt://c:3", "mqtt://a:1"):
        link.down()
        assert link.current.url == expected
    assert link.failovers == 3
    sample = metrics.registry.get_sample_value
    assert sample("mw_mqtt_failovers_total", {"client": "ingest"}) == 3
    assert sample("mw_mqtt_broker", {"client": "ingest", "broker": "mqtt://a:1"}) == 1
    assert sample("mw_mqtt_broker", {"client": "ingest", "broker": "mqtt://b:2"}) == 0
    assert sample("mw_mqtt_connected", {"client": "ingest"}) == 0


def test_the_reconnect_delay_grows_once_per_round_of_the_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lost broker is followed at once by the next untried one; the delay doubles only after
    every broker of the list has failed, and a good connection starts the round again."""
    link = BrokerLink("ingest", tuple(MqttEndpoint(h, 1) for h in "abc"))
    backoff = Backoff()
    monkeypatch.setattr("marine_watch.mqtt.session.random.random", lambda: 0.0)  # no jitter
    link.up()
    delays = []
    for _ in range(9):  # three full rounds of three brokers, none answering
        link.down()
        delays.append(backoff.next_delay(next_untried=link.untried))
    assert delays == [0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 0.5, 0.5, 2.0]
    link.up()
    link.down()
    assert link.untried


def test_one_broker_is_no_failover() -> None:
    link = BrokerLink("ingest", (MqttEndpoint("a", 1),))
    link.down()
    assert (link.current.url, link.failovers) == ("mqtt://a:1", 0)


@pytest.mark.services
@pytest.mark.timeout(120)
async def test_the_service_skips_a_dead_broker_and_says_where_it_is(
    mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str
) -> None:
    """First URL: nothing listens there. Every client moves on to the live broker; a reading is
    stored; /health names each client's broker and its failovers, /metrics the same."""
    dead = f"mqtt://{HOST}:{free_port()}"
    settings = make_settings(mosquitto, mqtt_url=f"{dead},{mosquitto.url}")
    async with serve(settings) as node:
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="pub-list") as pub:
            body = {"ts": int(time.time() * 1000), "value": 1.25, "unit": "m"}
            await pub.publish(f"{topic_root}/zhapu/tide_level", json.dumps(body), qos=1)
        async with httpx.AsyncClient(base_url=node.http, timeout=5.0) as http:
            async with asyncio.timeout(scaled(30)):
                while True:
                    health = (await http.get("/health")).json()
                    brokers = health["mqtt_brokers"]
                    stored = node.services.metrics.registry.get_sample_value(
                        "mw_readings_stored_total"
                    )
                    started = {"ingest", "forecasts", "risk_topics"} <= set(brokers)
                    if stored and started and all(b["connected"] for b in brokers.values()):
                        break
                    await asyncio.sleep(0.1)
            assert health["status"] == "ok"
            for client in ("ingest", "forecasts", "risk_topics"):
                assert brokers[client]["broker"] == mosquitto.url
                assert brokers[client]["failovers"] >= 1
            text = (await http.get("/metrics")).text
            assert f'mw_mqtt_broker{{broker="{mosquitto.url}",client="ingest"}} 1.0' in text
            assert 'mw_mqtt_failovers_total{client="ingest"}' in text


def test_a_refused_subscription_is_an_error_with_a_hint() -> None:
    """A SUBACK failure (0x80: no permission) must not leave ingest 'connected' to nothing."""
    ok, refused = (ReasonCode(PacketTypes.SUBACK, identifier=i) for i in (1, 0x80))
    check_granted(["marine/v1/zhapu/#"], [ok])
    check_granted(["marine/v1/zhapu/#"], (1,))
    with pytest.raises(aiomqtt.MqttError, match="marine/v1/dushan/#") as err:
        check_granted(["marine/v1/zhapu/#", "marine/v1/dushan/#"], [ok, refused])
    assert "read access" in (config_failure(err.value) or "")
    with pytest.raises(aiomqtt.MqttError):
        check_granted(["marine/v1/#"], (0x80,))
