"""Alerts that reach people: e-mail to the teams that want them, escalation when nobody answers.

Each zone message goes by e-mail to every team whose preferences take it (marine_watch/alerts/teams.py).
The team it is first addressed to is the first of those in teams.toml. If the newest message of an
open incident (colour above none) has no acknowledgement ``delay_s[tier]`` after it was sent, it is
escalated to that team's ``escalate_to``: e-mailed to the next team and delivered to the next team's
webhooks, recorded in the audit trail (action ``escalated``) and pushed on /ws/alerts. Another
``delay_s`` without an acknowledgement escalates it one step further, and so on up the chain.

Timers are derived from stored facts, not in-memory sleeps: the message's ``sent_s`` and the
number of ``escalated`` rows for it in the audit trail, both in the alert store, so escalation
resumes where it was after a restart. Every send has a key, so a step repeated after a crash between
sending and auditing sends nothing twice (docs/ALERTS.md).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from marine_watch.alerts.book import AlertBook, AlertMessage, AuditEntry, Subject
from marine_watch.alerts.mailer import Mail, Mailer, MailStore
from marine_watch.alerts.store import AlertStore
from marine_watch.alerts.teams import Team, Teams
from marine_watch.alerts.webhooks import Sender, WebhookStore
from marine_watch.clock import Clock
from marine_watch.hub import Hub

log = structlog.get_logger(__name__)


def _when(ts_s: float) -> str:
    return datetime.fromtimestamp(ts_s, UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class Escalator:
    """Sends alerts to the teams' e-mail and escalates unacknowledged ones up the chain."""

    store: AlertStore
    book: AlertBook
    teams: Teams
    outbox: MailStore
    mailer: Mailer
    webhooks: WebhookStore
    sender: Sender
    hub: Hub
    clock: Clock
    public_url: str

    def _mails(self, message: AlertMessage, team: Team, why: str, note: str) -> list[Mail]:
        texts = message.texts or {}
        lines = [note, ""] if note else []
        for lang in ("en", "zh"):
            part = texts.get(lang) or {}
            lines += [str(v) for k, v in part.items() if k in ("headline", "description")]
        lines += [
            "",
            f"Level {message.level} ({message.colour}), {message.msg_type.value},"
            f" {message.subject_id} ({message.tier}), sent {_when(message.sent_s)}",
            f"CAP: {self.public_url}/api/v1/alerts/{message.identifier}.cap",
            f"Acknowledge: POST {self.public_url}/api/v1/alerts/{message.identifier}/ack"
            " with your team's API key (X-API-Key), or signed with your webhook secret.",
            f"Alert: {message.identifier}",
        ]
        prefix = "[ESCALATED] " if why.startswith("escalation") else ""
        return [
            Mail(
                f"{message.identifier}:{why}:{team.id}:{address}",
                team.id,
                address,
                message.identifier,
                f"{prefix}{message.headline}"[:250],
                "\n".join(lines),
            )
            for address in team.email
        ]

    async def notify(self, message: AlertMessage) -> int:
        """E-mail a new message to every team that wants it; return how many e-mails are new."""
        mails = [
            m for t in self.teams.wanting(message) for m in self._mails(message, t, "alert", "")
        ]
        added = await self.outbox.enqueue(mails)
        if added:
            self.mailer.wake.set()
        return added

    async def check(self, now_s: float) -> list[dict[str, object]]:
        """Escalate every open zone alert whose acknowledgement is overdue; return the steps."""
        done: list[dict[str, object]] = []
        for (subject, _), chain in list(self.book.active.items()):
            last = chain[-1]
            if subject != Subject.ZONE or last.level <= 0:
                continue
            step = await self._due_step(last, now_s)
            if step is not None:
                done.append(step)
        return done

    async def _due_step(self, message: AlertMessage, now_s: float) -> dict[str, object] | None:
        delay = self.teams.escalation.delay(message.tier)
        first = self.teams.first(message)
        if delay is None or first is None:
            return None
        if await self.store.events(message.identifier, "acknowledged"):
            return None
        steps = [
            json.loads(str(r["detail"]))
            for r in await self.store.events(message.identifier, "escalated")
        ]
        due_s = message.sent_s + delay * (len(steps) + 1)
        if now_s < due_s:
            return None
        current = self.teams.team(str(steps[-1]["to"])) if steps else first
        target = self.teams.team(current.escalate_to) if current and current.escalate_to else None
        if current is None or target is None:
            return None  # the top of the chain: nobody further to escalate to
        return await self._escalate(
            message, current, target, len(steps) + 1, delay_s=delay, due_s=due_s
        )

    async def _escalate(
        self,
        message: AlertMessage,
        current: Team,
        target: Team,
        number: int,
        *,
        delay_s: float,
        due_s: float,
    ) -> dict[str, object]:
        why = f"escalation{number}"
        note = (
            f"Not acknowledged by {current.name} within {delay_s / 60:.0f} min:"
            f" escalated to {target.name}."
        )
        mails = await self.outbox.enqueue(self._mails(message, target, why, note))
        hooks = 0
        if target.principal:
            subs = [
                s.id for s in self.webhooks.subscriptions.values() if s.owner == target.principal
            ]
            body = json.dumps(
                {
                    "type": "alert",
                    **message.to_dict(),
                    "escalation": {"step": number, "from": current.id, "to": target.id},
                    "cap": f"{self.public_url}/api/v1/alerts/{message.identifier}.cap",
                },
                default=str,
            ).encode()
            hooks = await self.webhooks.enqueue_to(subs, message.identifier, body, why)
        step: dict[str, object] = {
            "step": number,
            "from": current.id,
            "to": target.id,
            "to_name": target.name,
            "delay_s": delay_s,
            "due_s": due_s,
            "emails": len(target.email),
        }
        now_s = self.clock.now()
        detail = json.dumps(step, ensure_ascii=False)
        await self.store.audit(
            AuditEntry(now_s, "system", "escalated", message.subject_id, message.identifier, detail)
        )
        if mails:
            self.mailer.wake.set()
        if hooks:
            self.sender.wake.set()
        event = {
            "type": "escalation",
            "identifier": message.identifier,
            "subject_id": message.subject_id,
            "ts": now_s,
            **step,
        }
        self.hub.publish("alerts", f"escalation:{message.identifier}:{number}", event)
        log.info(
            "alert_escalated",
            identifier=message.identifier,
            subject=message.subject_id,
            step=number,
            to=target.id,
            emails=mails,
            webhooks=hooks,
        )
        return step

    async def run(self, every_s: float) -> None:
        """Check the open alerts every ``every_s`` seconds, forever."""
        while True:
            await self.check(self.clock.now())
            await asyncio.sleep(every_s)
