"""Alerts that reach people, on real Mosquitto, a real SMTP server (STARTTLS) and a webhook receiver.

Unacknowledged: the village alert is e-mailed to the harbour group at once, escalated to the town
office after the village delay (e-mail and the town's webhook, audit trail, dashboard list), then
to the city HQ. Acknowledged in time: nothing escalates. Restarted in between: the escalation comes
from the stored alert time, and nothing already sent is sent again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import aiomqtt
import httpx
import pytest
import structlog

from marine_watch.auth.keys import hash_key
from marine_watch.settings import Settings
from tests.helpers import JsonObject, json_of, obj
from tests.integration.conftest import Running, serve
from tests.integration.test_surge_scenario import Receiver, start_receiver
from tests.services import Broker, scaled
from tests.smtp import Received, SmtpServer, smtp_server

pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]
VILLAGE_DELAY_S = 3.0
HARBOUR = "harbour@zhapu-harbour.test.invalid"
TOWN = "office@zhapu-town.test.invalid"
HQ = "desk@pinghu-hq.test.invalid"
KEYS = {"zhapu-harbour": "t-harbour-key", "zhapu-town": "t-town-key"}
SMTP_USER, SMTP_PASSWORD = "marine-watch", "smtp-secret-never-logged"

TEAMS = f"""
[escalation]
status = "SAMPLE"
source = "docs/ALERTS.md §2"
delay_s = {{ village = {VILLAGE_DELAY_S}, town = 600, city = 600 }}

[[teams]]
id = "harbour"
name = "Harbour group"
principal = "emergency_team:zhapu-harbour"
email = ["{HARBOUR}"]
zones = ["zhapu-harbour"]
tiers = ["village"]
escalate_to = "town"

[[teams]]
id = "town"
name = "Town office"
principal = "emergency_team:zhapu-town"
email = ["{TOWN}"]
zones = ["zhapu"]
min_colour = "yellow"
escalate_to = "hq"

[[teams]]
id = "hq"
name = "City HQ"
email = ["{HQ}"]
zones = ["pinghu"]
hazards = ["wind"]
"""


def _settings(
    make_settings: Callable[..., Settings], broker: Broker, tmp_path: Path, smtp: SmtpServer
) -> Settings:
    teams = tmp_path / "teams.toml"
    teams.write_text(TEAMS, encoding="utf-8")
    return make_settings(
        broker,
        teams_file=teams,
        escalation_check_s=0.2,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
        smtp_ca_file=smtp.pki.ca,
        api_keys=tuple(f"{n}:emergency_team:{hash_key(k)}" for n, k in KEYS.items()),
        webhook_allow_networks=("127.0.0.0/8",),
        webhook_backoff_s=0.1,
    )


async def _zhapu_red(app: Running, broker: Broker, root: str) -> None:
    now_ms = int(app.services.clock.now() * 1000)
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"pub-{time.monotonic_ns()}"
    ) as pub:
        for i in range(3):
            payload = json.dumps({"ts": now_ms - 60_000 * i, "value": 5.6, "unit": "m"})
            await pub.publish(f"{root}/zhapu/tide_level", payload, qos=1)


async def _village_alert(http: httpx.AsyncClient, key: str) -> JsonObject:
    async with asyncio.timeout(scaled(20)):
        while True:
            items = json_of(await http.get("/api/v1/alerts?active=true", headers=key_of(key)))
            found = [a for a in items["items"] if a["subject_id"] == "zhapu-harbour"]
            if found:
                return obj(found[0])
            await asyncio.sleep(0.1)


def about(smtp: SmtpServer, address: str, ident: str) -> list[Received]:
    """The e-mails to ``address`` about alert message ``ident``."""
    return [r for r in smtp.inbox.to(address) if r.message["X-MarineWatch-Alert"] == ident]


def key_of(team: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[team]}


async def _until(predicate: Callable[[], object], within_s: float) -> None:
    async with asyncio.timeout(scaled(within_s)):
        while not predicate():  # noqa: ASYNC110 - polls an inbox filled by another thread
            await asyncio.sleep(0.05)


async def test_unacknowledged_alert_escalates_to_the_next_team_after_the_delay(
    mosquitto: Broker,
    make_settings: Callable[..., Settings],
    topic_root: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not acknowledged: the harbour group's e-mail at once; after the village delay the town
    office gets an [ESCALATED] e-mail and its webhook, the audit trail and the dashboard list say
    so; one delay later the city HQ; the HQ is the top: nothing further. Secrets never logged."""
    receiver = Receiver()
    server, task, hook_url, sock = await start_receiver(receiver)
    caplog.set_level(logging.DEBUG)
    try:
        with (
            smtp_server(tmp_path, SMTP_USER, SMTP_PASSWORD) as smtp,
            structlog.testing.capture_logs() as events,
        ):
            settings = _settings(make_settings, mosquitto, tmp_path, smtp)
            async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
                hook = await http.post(
                    "/api/v1/webhooks",
                    json={"url": hook_url, "zones": ["zhapu"], "tiers": ["town"]},
                    headers=key_of("zhapu-town"),
                )
                assert hook.status_code == 201, hook.text
                await _zhapu_red(app, mosquitto, topic_root)
                alert = await _village_alert(http, "zhapu-harbour")
                ident = alert["identifier"]
                assert alert["escalations"] == []
                await _until(lambda: smtp.inbox.to(HARBOUR), 15)
                first = smtp.inbox.to(HARBOUR)[0]
                assert first.tls
                assert first.message["X-MarineWatch-Alert"] == ident
                assert "[ESCALATED]" not in first.message["Subject"]
                assert about(smtp, TOWN, ident) == []  # the village alert is not the town's: yet

                await _until(lambda: about(smtp, TOWN, ident), VILLAGE_DELAY_S + 15)
                escalated_at = time.time()
                town = about(smtp, TOWN, ident)[0]
                assert town.tls
                assert town.message["Subject"].startswith("[ESCALATED]")
                assert town.message["X-MarineWatch-Alert"] == ident
                assert "Not acknowledged by Harbour group" in town.message.get_content()
                steps = await http.get(f"/api/v1/alerts/{ident}", headers=key_of("zhapu-town"))
                body = steps.json()
                assert [s["to"] for s in body["escalations"]][:1] == ["town"]
                step1 = body["escalations"][0]
                assert step1["due_s"] == pytest.approx(alert["sent_s"] + VILLAGE_DELAY_S)
                assert step1["ts_s"] >= step1["due_s"]
                trail = (
                    await http.get(
                        "/api/v1/audit?subject_id=zhapu-harbour", headers=key_of("zhapu-town")
                    )
                ).json()
                assert "escalated" in [r["action"] for r in trail["items"]]
                active = await _village_alert(http, "zhapu-town")
                assert active["escalations"][0]["to_name"] == "Town office"

                def escalated_hook() -> bool:
                    bodies = [json.loads(b) for _, b in receiver.received]
                    return any(b.get("identifier") == ident and "escalation" in b for b in bodies)

                await _until(escalated_hook, 15)  # the town's webhook, though it filters on zhapu

                await _until(lambda: about(smtp, HQ, ident), VILLAGE_DELAY_S + 15)
                assert time.time() - escalated_at >= VILLAGE_DELAY_S * 0.8
                await asyncio.sleep(VILLAGE_DELAY_S + 1)  # the HQ escalates to nobody
                body = (
                    await http.get(f"/api/v1/alerts/{ident}", headers=key_of("zhapu-town"))
                ).json()
                assert [s["to"] for s in body["escalations"]] == ["town", "hq"]
                assert {e["status"] for e in body["emails"]} == {"sent"}
                assert len(smtp.inbox.to(HARBOUR)) == 1
                assert (
                    len(
                        [
                            r
                            for r in smtp.inbox.to(TOWN)
                            if r.message["X-MarineWatch-Alert"] == ident
                        ]
                    )
                    == 1
                )
                assert smtp.inbox.refused == []
    finally:
        server.should_exit = True
        await task
        sock.close()
    service_side = [r for r in caplog.records if not r.name.startswith("mail.log")]  # the server's
    logged = json.dumps(events, default=str) + " ".join(r.getMessage() for r in service_side)
    assert SMTP_PASSWORD not in logged
    assert any(e.get("event") == "alert_escalated" for e in events)
    assert any(e.get("event") == "email_sent" for e in events)


async def test_acknowledged_in_time_is_not_escalated(
    mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str, tmp_path: Path
) -> None:
    """The harbour group acknowledges within the delay: after twice the delay nobody else is told."""
    with smtp_server(tmp_path, SMTP_USER, SMTP_PASSWORD) as smtp:
        settings = _settings(make_settings, mosquitto, tmp_path, smtp)
        async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
            await _zhapu_red(app, mosquitto, topic_root)
            alert = await _village_alert(http, "zhapu-harbour")
            ident = alert["identifier"]
            ack = await http.post(
                f"/api/v1/alerts/{ident}/ack",
                json={"note": "on our way"},
                headers=key_of("zhapu-harbour"),
            )
            assert ack.status_code == 201
            assert time.time() < alert["sent_s"] + VILLAGE_DELAY_S  # in time
            await _until(lambda: smtp.inbox.to(HARBOUR), 15)
            await asyncio.sleep(2 * VILLAGE_DELAY_S + 1)
            body = (
                await http.get(f"/api/v1/alerts/{ident}", headers=key_of("zhapu-harbour"))
            ).json()
            assert body["escalations"] == []
            assert about(smtp, TOWN, ident) == []
            assert about(smtp, HQ, ident) == []
            assert len(smtp.inbox.to(HARBOUR)) == 1


async def test_escalation_survives_a_restart_and_sends_nothing_twice(
    mosquitto: Broker, make_settings: Callable[..., Settings], topic_root: str, tmp_path: Path
) -> None:
    """Stopped before the delay ran out and started again after it: the escalation is made from the
    stored alert time (due = sent + delay), and the harbour group's e-mail is not sent again."""
    with smtp_server(tmp_path, SMTP_USER, SMTP_PASSWORD) as smtp:
        settings = _settings(make_settings, mosquitto, tmp_path, smtp)
        async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
            await _zhapu_red(app, mosquitto, topic_root)
            alert = await _village_alert(http, "zhapu-harbour")
            await _until(lambda: smtp.inbox.to(HARBOUR), 15)
        assert about(smtp, TOWN, alert["identifier"]) == []
        await asyncio.sleep(max(0.0, alert["sent_s"] + VILLAGE_DELAY_S - time.time()) + 0.5)
        async with serve(settings) as again, httpx.AsyncClient(base_url=again.http) as http:
            await _until(lambda: about(smtp, TOWN, alert["identifier"]), 15)
            body = (
                await http.get(
                    f"/api/v1/alerts/{alert['identifier']}", headers=key_of("zhapu-town")
                )
            ).json()
            assert body["escalations"][0]["due_s"] == pytest.approx(
                alert["sent_s"] + VILLAGE_DELAY_S
            )
            await asyncio.sleep(1.0)
            assert len(smtp.inbox.to(HARBOUR)) == 1  # the first e-mail was not sent again
