"""The alert service: colour changes become durable messages, on /ws/alerts and to webhooks."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from marine_watch.alerts.book import AlertBook, MsgType, Subject
from marine_watch.alerts.service import AlertService
from marine_watch.alerts.store import AlertStore
from marine_watch.alerts.webhooks import Policy, Sender, WebhookStore
from marine_watch.auth.keys import Principal, Role
from sensors.reading import Reading, group
from tests.helpers import SetClock, build_pipeline

NOW = 1_795_000_000.0
OPS = Principal("ops", Role.DUTY_OFFICER)


def zhapu_at(level_m: float, now_s: float) -> list[Reading]:
    return [Reading("zhapu", "tide_level", int((now_s - 60 * i) * 1e9), level_m) for i in (2, 1, 0)]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[tuple[AlertService, SetClock]]:
    """The service as the app wires it: real SQLite stores, hub and pipeline (no HTTP sent)."""
    clock = SetClock(NOW)
    pipeline, hub, numerics = build_pipeline(clock)
    store, webhooks = AlertStore(tmp_path / "alerts.sqlite3"), WebhookStore(tmp_path / "wh.sqlite3")
    await store.open()
    await webhooks.open()
    async with httpx.AsyncClient() as http:
        sender = Sender(webhooks, http, Policy(5.0, 3, 1.0, 10.0, 10))
        alerts = AlertService(
            store, AlertBook(), hub, webhooks, sender, pipeline, "https://mw.example"
        )
        pipeline.async_listeners.append(alerts.on_change)
        yield alerts, clock
    await store.close()
    await webhooks.close()
    numerics.shutdown()


async def test_a_red_village_sends_one_alert_stored_published_and_spooled(
    service: tuple[AlertService, SetClock],
) -> None:
    """Red at Zhapu Harbour: one Alert, in the store, on /ws/alerts, queued for the subscriber
    of that zone (with its CAP link); the colour change is in the audit trail; nothing twice."""
    alerts, clock = service
    pipeline = alerts.pipeline
    feed = alerts.hub.subscribe("alerts")
    sub = await alerts.webhooks.subscribe(
        "duty_officer:ops", "https://hooks.example/x", ("zhapu-harbour",), (), ("zone",)
    )
    await pipeline.evaluate()
    pipeline.on_readings(group(zhapu_at(5.6, NOW)))
    await pipeline.evaluate()

    zone_alerts = await alerts.store.messages(subject_id="zhapu-harbour", limit=10)
    assert [(m.msg_type, m.level, m.colour) for m in zone_alerts] == [(MsgType.ALERT, 4, "red")]
    message = zone_alerts[0]
    assert (Subject.ZONE, "zhapu-harbour") in alerts.book.active
    sent = [json.loads(t) for t in await feed.next_batch()]
    assert any(m["identifier"] == message.identifier and m["type"] == "alert" for m in sent)
    colours = await alerts.store.trail(subject_id="zhapu-harbour", action="colour")
    assert json.loads(str(colours[-1]["detail"])) == {"level": 4, "colour": "red"}

    due = await alerts.webhooks.due(NOW + 10**9, 10)
    assert [(d[1], json.loads(d[2])["identifier"]) for d in due] == [(sub.id, message.identifier)]
    body = json.loads(due[0][2])
    assert body["cap"] == f"https://mw.example/api/v1/alerts/{message.identifier}.cap"
    assert alerts.sender.wake.is_set()

    clock.now_s = NOW + 60
    await pipeline.evaluate()
    assert len(await alerts.store.messages(subject_id="zhapu-harbour", limit=10)) == 1


async def test_calm_water_cancels_after_the_hold_time(
    service: tuple[AlertService, SetClock],
) -> None:
    """Back to calm: not before the hold time, then the open alert is cancelled, referencing it."""
    alerts, clock = service
    pipeline = alerts.pipeline
    pipeline.on_readings(group(zhapu_at(5.6, NOW)))
    await pipeline.evaluate()
    hold_s = pipeline.catalogue.rules.hold_time_s
    t = NOW
    kinds: list[list[MsgType]] = []
    while t < NOW + hold_s + 3 * 3600:  # calm water, 1.0 m, every 10 minutes
        t += 600
        clock.now_s = t
        pipeline.on_readings(group(zhapu_at(1.0, t)))
        await pipeline.evaluate()
        chain = await alerts.store.messages(subject_id="zhapu-harbour", limit=10)
        kinds.append([m.msg_type for m in chain])
        if chain[0].msg_type == MsgType.CANCEL:
            break
    cancelled_at = t
    assert kinds[-1][0] == MsgType.CANCEL, kinds
    assert cancelled_at - NOW >= hold_s
    chain = await alerts.store.messages(subject_id="zhapu-harbour", limit=10)
    assert chain[-1].msg_type == MsgType.ALERT
    assert chain[0].references[0][0] == chain[-1].identifier
    assert (Subject.ZONE, "zhapu-harbour") not in alerts.book.active


async def test_acknowledging_is_audited_and_published(
    service: tuple[AlertService, SetClock],
) -> None:
    """An acknowledgement goes in the audit trail, reaches /ws/alerts, and is listed with its
    alert."""
    alerts, _ = service
    pipeline = alerts.pipeline
    pipeline.on_readings(group(zhapu_at(5.6, NOW)))
    await pipeline.evaluate()
    message = (await alerts.store.messages(subject_id="zhapu-harbour", limit=1))[0]
    feed = alerts.hub.subscribe("alerts")
    ack = await alerts.acknowledge(message, OPS, "team on the way", NOW + 30)
    assert ack == {
        "type": "ack",
        "identifier": message.identifier,
        "incident": message.incident,
        "by": "duty_officer:ops",
        "note": "team on the way",
        "ts": NOW + 30,
    }
    assert [json.loads(t) for t in await feed.next_batch()] == [ack]
    listed = await alerts.store.acknowledgements([message.identifier])
    assert [(a["actor"], a["detail"]) for a in listed[message.identifier]] == [
        ("duty_officer:ops", "team on the way")
    ]
    signed = await alerts.acknowledge(message, "webhook:duty_officer:ops:wh_1", "", NOW + 40)
    assert signed["by"] == "webhook:duty_officer:ops:wh_1"
