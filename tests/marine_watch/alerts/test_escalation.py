"""Escalation on its stores: who is e-mailed first, when an unacknowledged alert climbs the chain,
and that a repeated step sends nothing twice (tests/integration/test_escalation.py runs it with
SMTP and webhooks on the wire)."""

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from marine_watch.alerts.book import AlertBook, AlertMessage, AuditEntry, MsgType, Subject
from marine_watch.alerts.escalation import Escalator
from marine_watch.alerts.mailer import Mail, Mailer, MailStore
from marine_watch.alerts.store import AlertStore
from marine_watch.alerts.teams import Teams
from marine_watch.alerts.webhooks import Policy, Sender, WebhookStore
from marine_watch.alerts.wording import Wording
from marine_watch.coast import load_catalogue
from marine_watch.hub import Hub, Subscriber
from marine_watch.settings import Settings
from tests.helpers import CONFIG, SetClock

NOW = 1_795_000_000.0
DELAY_S = 600.0
URL = "https://mw.example"
TEAMS = Teams.model_validate(
    {
        "escalation": {"delay_s": {"village": DELAY_S}},
        "teams": [
            {
                "id": "harbour",
                "name": "Harbour group",
                "email": ["a@harbour.test", "b@harbour.test"],
                "zones": ["zhapu-harbour"],
                "tiers": ["village"],
                "escalate_to": "town",
            },
            {
                "id": "town",
                "name": "Town office",
                "principal": "emergency_team:zhapu-town",
                "email": ["office@town.test"],
                "zones": ["zhapu"],
                "escalate_to": "hq",
            },
            {"id": "hq", "name": "City HQ", "email": ["desk@hq.test"], "hazards": ["wind"]},
        ],
    }
)


def message(level: int = 2, tier: str = "village", subject: Subject = Subject.ZONE) -> AlertMessage:
    return AlertMessage(
        "mw-zhapu-harbour-1",
        "mw-zhapu-harbour-1",
        subject,
        "zhapu-harbour",
        tier,
        MsgType.ALERT,
        level,
        "yellow",
        NOW,
        (),
        "Yellow storm surge warning, Zhapu harbour",
        {"hazard": "storm_surge"},
        {"en": {"headline": "Yellow warning", "description": "Water 1.2 m above normal"}},
    )


@dataclass
class Desk:
    """An escalator on files in tmp_path, with what it writes to."""

    escalator: Escalator
    store: AlertStore
    outbox: MailStore
    webhooks: WebhookStore
    clock: SetClock
    events: Subscriber
    town_hook: str
    http: httpx.AsyncClient  # the sender's (it never sends here)

    async def mails(self) -> list[Mail]:
        return [m for m, _ in await self.outbox.due(time.time() + 1, 100)]

    async def deliveries(self) -> list[tuple[str, dict[str, object]]]:
        due = await self.webhooks.due(time.time() + 1, 100)
        return [(sub, json.loads(body)) for _, sub, body, _ in due]


async def open_desk(tmp_path: Path, store_file: str = "alerts.sqlite3") -> Desk:
    store = AlertStore(tmp_path / store_file)
    await store.open()
    outbox = MailStore(tmp_path / "mail.sqlite3")
    await outbox.open()
    webhooks = WebhookStore(tmp_path / "webhooks.sqlite3")
    await webhooks.open()
    town = [s for s in webhooks.subscriptions.values() if s.owner == "emergency_team:zhapu-town"]
    if not town:
        town.append(
            await webhooks.subscribe(
                "emergency_team:zhapu-town", "https://town.example/hook", (), (), ("zone",)
            )
        )
    await webhooks.subscribe("emergency_team:other", "https://other.example/h", (), (), ("zone",))
    settings = Settings(config_dir=CONFIG, data_dir=tmp_path)
    hub = Hub(capacity=16, stall_s=30.0)
    policy = Policy(1.0, 1, 0.1, 0.1, 10)
    clock = SetClock(NOW)
    http = httpx.AsyncClient()
    escalator = Escalator(
        store,
        AlertBook(Wording(load_catalogue(CONFIG))),
        TEAMS,
        outbox,
        Mailer(outbox, settings),
        webhooks,
        Sender(webhooks, http, policy),
        hub,
        clock,
        URL,
    )
    return Desk(
        escalator, store, outbox, webhooks, clock, hub.subscribe("alerts"), town[0].id, http
    )


async def close_desk(desk: Desk) -> None:
    await desk.store.close()
    await desk.outbox.close()
    await desk.webhooks.close()
    await desk.http.aclose()


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    opened = await open_desk(tmp_path)
    yield opened
    await close_desk(opened)


def raise_alert(desk: Desk, alert: AlertMessage) -> None:
    desk.escalator.book.active[(alert.subject, alert.subject_id)] = [alert]


async def test_a_new_alert_is_mailed_once_to_every_team_that_wants_it(desk: Desk) -> None:
    alert = message()
    assert await desk.escalator.notify(alert) == 2
    assert desk.escalator.mailer.wake.is_set()
    assert await desk.escalator.notify(alert) == 0  # the same keys: nothing twice
    mails = await desk.mails()
    assert [(m.team, m.address) for m in mails] == [
        ("harbour", "a@harbour.test"),
        ("harbour", "b@harbour.test"),
    ]
    first = mails[0]
    assert first.subject == alert.headline
    assert first.key == "mw-zhapu-harbour-1:alert:harbour:a@harbour.test"
    lines = first.body.splitlines()
    assert lines[:2] == ["Yellow warning", "Water 1.2 m above normal"]
    assert f"CAP: {URL}/api/v1/alerts/mw-zhapu-harbour-1.cap" in lines
    assert any(line.startswith(f"Acknowledge: POST {URL}/api/v1/alerts/") for line in lines)
    assert "Level 2 (yellow), Alert, zhapu-harbour (village), sent 2026-11-18 11:06 UTC" in lines
    assert lines[-1] == "Alert: mw-zhapu-harbour-1"


async def test_an_unacknowledged_alert_climbs_one_team_per_delay(desk: Desk) -> None:
    raise_alert(desk, message())
    assert await desk.escalator.check(NOW + DELAY_S - 1) == []
    desk.clock.now_s = NOW + DELAY_S
    [step] = await desk.escalator.check(NOW + DELAY_S)
    assert step == {
        "step": 1,
        "from": "harbour",
        "to": "town",
        "to_name": "Town office",
        "delay_s": DELAY_S,
        "due_s": NOW + DELAY_S,
        "emails": 1,
    }
    [mail] = await desk.mails()
    assert (mail.team, mail.address) == ("town", "office@town.test")
    assert mail.subject == "[ESCALATED] Yellow storm surge warning, Zhapu harbour"
    assert mail.body.startswith("Not acknowledged by Harbour group within 10 min: escalated to")
    [(sub, body)] = await desk.deliveries()  # the town's webhook only, not another owner's
    assert sub == desk.town_hook
    assert body["escalation"] == {"step": 1, "from": "harbour", "to": "town"}
    assert body["cap"] == f"{URL}/api/v1/alerts/mw-zhapu-harbour-1.cap"
    assert desk.escalator.sender.wake.is_set()
    [audit] = await desk.store.events("mw-zhapu-harbour-1", "escalated")
    assert (audit["ts_s"], audit["actor"]) == (NOW + DELAY_S, "system")
    assert json.loads(str(audit["detail"])) == step
    [event] = [json.loads(t) for t in await desk.events.next_batch()]
    assert (event["type"], event["identifier"], event["to"]) == (
        "escalation",
        "mw-zhapu-harbour-1",
        "town",
    )

    assert await desk.escalator.check(NOW + 2 * DELAY_S - 1) == []  # the next step waits
    [second] = await desk.escalator.check(NOW + 2 * DELAY_S)
    assert (second["step"], second["from"], second["to"]) == (2, "town", "hq")
    assert await desk.escalator.check(NOW + 10 * DELAY_S) == []  # HQ is the top of the chain


async def test_an_acknowledged_alert_does_not_escalate(desk: Desk) -> None:
    alert = message()
    raise_alert(desk, alert)
    entry = AuditEntry(NOW + 5, "harbour", "acknowledged", alert.subject_id, alert.identifier, "")
    await desk.store.audit(entry)
    assert await desk.escalator.check(NOW + 5 * DELAY_S) == []
    assert await desk.mails() == []


@pytest.mark.parametrize(
    "alert",
    [
        message(level=0),  # the all-clear of an incident
        message(tier="town"),  # no delay configured for the tier
        message(subject=Subject.STATION),  # a station going silent is not escalated
    ],
)
async def test_what_is_not_escalated(desk: Desk, alert: AlertMessage) -> None:
    raise_alert(desk, alert)
    assert await desk.escalator.check(NOW + 5 * DELAY_S) == []


async def test_a_step_repeated_after_a_crash_sends_nothing_twice(tmp_path: Path) -> None:
    """Sent but not audited (a crash in between): the step is taken again from the stored facts,
    and its e-mails and webhook deliveries, keyed by step, are not sent again."""
    desk = await open_desk(tmp_path)
    raise_alert(desk, message())
    await desk.escalator.check(NOW + DELAY_S)
    sent = (await desk.mails(), await desk.deliveries())
    await close_desk(desk)
    again = await open_desk(tmp_path, "alerts-without-the-audit.sqlite3")
    try:
        raise_alert(again, message())
        [step] = await again.escalator.check(NOW + DELAY_S)
        assert (step["step"], step["to"]) == (1, "town")
        assert (await again.mails(), await again.deliveries()) == sent
        assert not again.escalator.mailer.wake.is_set()
        assert not again.escalator.sender.wake.is_set()
    finally:
        await close_desk(again)


async def test_escalation_resumes_from_the_stored_steps_after_a_restart(tmp_path: Path) -> None:
    desk = await open_desk(tmp_path)
    raise_alert(desk, message())
    await desk.escalator.check(NOW + DELAY_S)
    await close_desk(desk)
    restarted = await open_desk(tmp_path)
    try:
        raise_alert(restarted, message())
        assert await restarted.escalator.check(NOW + DELAY_S + 1) == []
        [step] = await restarted.escalator.check(NOW + 2 * DELAY_S)
        assert (step["step"], step["from"], step["to"]) == (2, "town", "hq")
    finally:
        await close_desk(restarted)
