"""Websocket fan-out: latest wins per key, bounded mailboxes, slow clients closed, filters."""

from __future__ import annotations

import asyncio
import json

from marine_watch.hub import Hub


async def test_latest_message_per_key_wins_for_a_slow_client() -> None:
    """A client that has not read yet gets only the newest colour of each zone, in first-seen order."""
    hub = Hub(capacity=10, stall_s=5)
    sub = hub.subscribe("risk")
    hub.publish("risk", "a", {"id": "a", "level": 1})
    hub.publish("risk", "b", {"id": "b", "level": 2})
    hub.publish("risk", "a", {"id": "a", "level": 4})
    batch = [json.loads(t) for t in await asyncio.wait_for(sub.next_batch(), 1)]
    assert batch == [{"id": "a", "level": 4}, {"id": "b", "level": 2}]


async def test_stalled_client_is_closed_with_a_reason_and_others_keep_receiving() -> None:
    """A full mailbox past the stall time closes that client only."""
    hub = Hub(capacity=2, stall_s=0.0)
    slow = hub.subscribe("feeds")
    fast = hub.subscribe("feeds")
    for i in range(3):
        hub.publish("feeds", f"k{i}", {"i": i})
        await fast.next_batch()
    hub.publish("feeds", "k3", {"i": 3})
    assert slow.closed_reason is not None
    assert "too slow" in slow.closed_reason
    assert hub.count("feeds") == 1
    assert fast.closed_reason is None


async def test_filters_select_messages_per_client() -> None:
    """A feed client filtered to one station does not receive the others."""
    hub = Hub(capacity=10, stall_s=5)
    sub = hub.subscribe("feeds", lambda m: m["station"] == "zhapu")
    hub.publish("feeds", "dushan/tide_level", {"station": "dushan"})
    hub.publish("feeds", "zhapu/tide_level", {"station": "zhapu"})
    batch = await asyncio.wait_for(sub.next_batch(), 1)
    assert [json.loads(t)["station"] for t in batch] == ["zhapu"]


async def test_non_finite_numbers_reach_clients_as_null() -> None:
    """Messages are strict JSON: NaN and infinities never reach a browser."""
    hub = Hub(capacity=10, stall_s=5)
    sub = hub.subscribe("risk")
    hub.publish("risk", "a", {"value": float("nan"), "q": [1.0, float("inf")], "ok": 2.5})
    (text,) = await asyncio.wait_for(sub.next_batch(), 1)
    assert json.loads(text) == {"value": None, "q": [1.0, None], "ok": 2.5}


async def test_heartbeat_reaches_filtered_clients_and_finds_stalled_ones() -> None:
    """One hub timer beats every client, filters aside, and closes a client stalled past the limit."""
    hub = Hub(capacity=1, stall_s=0.0)
    filtered = hub.subscribe("feeds", lambda m: m.get("station") == "zhapu")
    stalled = hub.subscribe("risk")
    hub.publish("risk", "a", {"id": "a"})  # fills the stalled client's only slot
    hub.beat()  # the stalled client's mailbox is found full ...
    hub.beat()  # ... and still full at the next beat: closed
    assert [json.loads(t) for t in await asyncio.wait_for(filtered.next_batch(), 1)] == [
        {"type": "heartbeat"}
    ]
    assert stalled.closed_reason is not None
    assert hub.count("risk") == 0
