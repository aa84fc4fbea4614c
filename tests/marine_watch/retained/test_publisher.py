"""Retained risk topics: the latest colour of each place, coalesced, on a real broker."""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiomqtt

from marine_watch.retained.publisher import RiskTopics
from marine_watch.risk.zones import PlaceColour
from marine_watch.settings import Settings
from tests.services import Broker, scaled

NOW = 1_795_000_000.0
NAMES = {0: "none", 1: "blue", 2: "yellow", 3: "orange", 4: "red"}


def colour(place: str, level: int) -> PlaceColour:
    return PlaceColour(place, "zone", "village", level, NAMES[level], None, (), NOW)


def test_changes_are_coalesced_per_place_latest_wins(
    make_settings: Callable[..., Settings], mosquitto: Broker
) -> None:
    """Many changes of one place leave one pending message, its latest colour; an evaluation
    without a change leaves only the heartbeat (the colours' age on API nodes), also coalesced."""
    topics = RiskTopics(make_settings(mosquitto))
    topics.on_change([], NOW)
    assert set(topics._pending) == {"_node/all"}
    assert json.loads(topics._pending["_node/all"])["evaluated_s"] == NOW
    for level in (1, 2, 3):
        topics.on_change([colour("zhapu-harbour", level), colour("tianfei", 1)], NOW + level)
    assert topics._ready.is_set()
    assert set(topics._pending) == {"zhapu-harbour", "tianfei", "_node/all"}
    assert json.loads(topics._pending["_node/all"])["evaluated_s"] == NOW + 3
    latest = json.loads(topics._pending["zhapu-harbour"])
    assert (latest["level"], latest["colour"], latest["ts"]) == (3, "orange", NOW + 3)


async def _latest(client: aiomqtt.Client, n: int) -> dict[str, tuple[bool, dict[str, Any]]]:
    """The first ``n`` places' messages: place → (retained?, body)."""
    got: dict[str, tuple[bool, dict[str, Any]]] = {}
    async with asyncio.timeout(scaled(10)):
        async for message in client.messages:
            place = str(message.topic).rsplit("/", 1)[1]
            if "/_" in str(message.topic):
                continue  # the heartbeat, stations and alerts subtopics (contract version 2)
            got[place] = (message.retain, json.loads(bytes(message.payload)))
            if len(got) == n:
                return got
    return got


async def test_the_latest_colour_is_retained_for_any_later_subscriber(
    make_settings: Callable[..., Settings], mosquitto: Broker, topic_root: str
) -> None:
    """Published at QoS 1 under {root}/risk/{place}: a subscriber hears each place's latest colour
    (coalesced: red, never the yellow before it), and one that subscribes afterwards gets it
    retained at once."""
    topics = RiskTopics(make_settings(mosquitto))
    assert topics.root == f"{topic_root}/risk"
    host, port = mosquitto.host, mosquitto.port
    async with aiomqtt.Client(host, port, identifier=f"live-{time.time_ns()}") as live:
        await live.subscribe(f"{topics.root}/#", qos=1)
        topics.on_change([colour("zhapu-harbour", 2), colour("tianfei", 1)], NOW)
        topics.on_change([colour("zhapu-harbour", 4)], NOW + 1)
        worker = asyncio.create_task(topics.run())
        try:
            heard = await _latest(live, 2)
        finally:
            worker.cancel()
    assert heard["zhapu-harbour"][1]["colour"] == "red"
    async with aiomqtt.Client(host, port, identifier=f"later-{time.time_ns()}") as later:
        await later.subscribe(f"{topics.root}/#", qos=1)
        kept = await _latest(later, 2)
    assert kept["zhapu-harbour"] == (True, heard["zhapu-harbour"][1])
    assert kept["zhapu-harbour"][1]["ts"] == NOW + 1
    assert kept["tianfei"][0] is True
    assert kept["tianfei"][1]["level"] == 1
