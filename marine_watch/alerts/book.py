"""Tiered alerts: a zone's colour rising or falling raises, updates or cancels its alert.

Lifecycle per incident (DOMAIN.md §6.3): Alert, then Update at each colour change (``references``
chains every earlier message), then Cancel when the zone is back to none. Each message has its own
identifier. Unknown (no data) never cancels: no data is not none (§7); nor is a warning lowered or
cancelled while the member that drove it has no data (docs/WARNINGS.md). A station that goes silent
raises its own alert to duty officers, cancelled only when it reports again.

The book is pure (colours in, messages out); the store (:mod:`marine_watch.alerts.store`) keeps
messages, acknowledgements and the audit trail in SQLite, so the lifecycle survives a restart.
Headlines and texts name places by name in English and Chinese (:mod:`marine_watch.alerts.wording`).
"""

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple

from marine_watch.alerts.wording import Texts, Wording
from marine_watch.risk.zones import PlaceColour
from risk_models.levels import COLOUR_OF_CODE
from risk_models.types import UNKNOWN


class AuditEntry(NamedTuple):
    """One line of the audit trail (also the row inserted, in column order)."""

    ts_s: float
    actor: str
    action: str
    subject_id: str
    identifier: str | None
    detail: str


class MsgType(StrEnum):
    """CAP msgType of a message."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


class Subject(StrEnum):
    """What an incident is about."""

    ZONE = "zone"
    STATION = "station"


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """One message of an incident (immutable once sent)."""

    identifier: str
    incident: str  # identifier of the incident's first message
    subject: Subject
    subject_id: str  # zone or station id
    tier: str | None
    msg_type: MsgType
    level: int
    colour: str
    sent_s: float
    references: tuple[tuple[str, float], ...]  # (identifier, sent_s) of earlier messages
    headline: str
    explanation: Mapping[str, object] | None = None
    texts: Mapping[str, Mapping[str, str]] | None = None  # per language: headline, description…
    response_type: str | None = None  # CAP responseType (AllClear for a cancel)

    def to_dict(self) -> dict[str, object]:
        """The message as the API and the websocket send it (CAP fields, plain JSON types)."""
        return {
            "identifier": self.identifier,
            "incident": self.incident,
            "subject": self.subject.value,
            "subject_id": self.subject_id,
            "tier": self.tier,
            "msg_type": self.msg_type.value,
            "level": self.level,
            "colour": self.colour,
            "sent_s": self.sent_s,
            "references": [i for i, _ in self.references],
            "headline": self.headline,
            "headline_zh": (self.texts or {}).get("zh", {}).get("headline"),
            "response_type": self.response_type,
            "explanation": dict(self.explanation) if self.explanation else None,
        }


def new_identifier(subject_id: str, sent_s: float) -> str:
    """Unique, CAP-safe (no spaces, commas, '<' or '&')."""
    stamp = datetime.fromtimestamp(sent_s, UTC).strftime("%Y%m%dT%H%M%S")
    return f"mw-{subject_id}-{stamp}-{secrets.token_hex(4)}"


@dataclass
class AlertBook:
    """The open incidents and the rules that turn colour changes into messages."""

    wording: Wording | None = None
    active: dict[tuple[Subject, str], list[AlertMessage]] = field(default_factory=dict)

    def on_colour(self, colour: PlaceColour, now_s: float) -> AlertMessage | None:
        """Raise, update or cancel the zone's alert; None when nothing is due."""
        if colour.kind != Subject.ZONE.value or colour.level == UNKNOWN:
            return None
        key = (Subject.ZONE, colour.id)
        chain = self.active.get(key)
        hazard = str((colour.driver or {}).get("hazard", "marine hazard"))
        if chain is None:
            return self._first(key, colour, hazard, now_s)
        last = chain[-1]
        if colour.level == last.level:
            return None
        if colour.level < last.level and _driver_silent(last, colour):
            return None  # its driver has no data: no lowering, no all-clear (docs/WARNINGS.md)
        if colour.level <= 0:
            last_hazard = str((last.explanation or {}).get("hazard", hazard))
            texts, _ = self._texts("cancel", colour, last_hazard, None)
            return self._close(key, texts, now_s, colour.driver)
        texts, response = self._texts("update", colour, hazard, last.level)
        return self._next(
            key,
            MsgType.UPDATE,
            colour.level,
            texts,
            explanation=colour.driver,
            now_s=now_s,
            response=response,
        )

    def _first(
        self, key: tuple[Subject, str], colour: PlaceColour, hazard: str, now_s: float
    ) -> AlertMessage | None:
        """The Alert that opens an incident for a zone above none; None at none."""
        if colour.level <= 0:
            return None
        texts, response = self._texts("alert", colour, hazard, None)
        return self._open(
            key,
            colour.tier,
            MsgType.ALERT,
            colour.level,
            texts,
            explanation=colour.driver,
            now_s=now_s,
            response=response,
        )

    def _texts(
        self, kind: str, colour: PlaceColour, hazard: str, previous: int | None
    ) -> tuple[Texts, str | None]:
        if self.wording is not None:
            return self.wording.zone(
                kind, colour.id, hazard, colour.level, colour.driver, previous=previous
            )
        head = f"{colour.colour.capitalize()} {hazard} warning for {colour.id}"
        if kind == "cancel":
            head = f"All clear: {hazard} warning for {colour.id} lifted"
        return {"en": {"headline": head, "description": head}}, None

    def on_station(
        self, station: str, status: str, reason: str | None, now_s: float
    ) -> AlertMessage | None:
        """A station going stale raises an alert; only reporting again cancels it."""
        key = (Subject.STATION, station)
        if status == "stale" and key not in self.active:
            texts = (
                self.wording.station(station, True, reason)
                if self.wording
                else {"en": {"headline": f"Station {station} is silent: {reason}"}}
            )
            return self._open(
                key,
                None,
                MsgType.ALERT,
                UNKNOWN,
                texts,
                explanation={"reason": reason},
                now_s=now_s,
                response=None,
            )
        if status == "ok" and key in self.active:
            texts = (
                self.wording.station(station, False, None)
                if self.wording
                else {"en": {"headline": f"Station {station} reports again"}}
            )
            return self._close(key, texts, now_s, None)
        return None

    def _open(
        self,
        key: tuple[Subject, str],
        tier: str | None,
        msg_type: MsgType,
        level: int,
        texts: Texts,
        *,
        explanation: Mapping[str, object] | None,
        now_s: float,
        response: str | None,
    ) -> AlertMessage:
        ident = new_identifier(key[1], now_s)
        message = AlertMessage(
            ident,
            ident,
            key[0],
            key[1],
            tier,
            msg_type,
            level,
            _colour(level),
            now_s,
            (),
            texts["en"]["headline"],
            explanation,
            texts,
            response,
        )
        self.active[key] = [message]
        return message

    def _next(
        self,
        key: tuple[Subject, str],
        msg_type: MsgType,
        level: int,
        texts: Texts,
        *,
        explanation: Mapping[str, object] | None,
        now_s: float,
        response: str | None,
    ) -> AlertMessage:
        chain = self.active[key]
        first = chain[0]
        message = AlertMessage(
            new_identifier(key[1], now_s),
            first.incident,
            first.subject,
            first.subject_id,
            first.tier,
            msg_type,
            level,
            _colour(level),
            now_s,
            tuple((m.identifier, m.sent_s) for m in chain),
            texts["en"]["headline"],
            explanation,
            texts,
            response,
        )
        chain.append(message)
        return message

    def _close(
        self,
        key: tuple[Subject, str],
        texts: Texts,
        now_s: float,
        explanation: Mapping[str, object] | None,
    ) -> AlertMessage:
        level = 0 if key[0] == Subject.ZONE else UNKNOWN
        message = self._next(
            key,
            MsgType.CANCEL,
            level,
            texts,
            explanation=explanation,
            now_s=now_s,
            response="AllClear",
        )
        del self.active[key]
        return message

    def restore(self, messages: Iterable[AlertMessage]) -> None:
        """Rebuild open incidents from stored messages (oldest first)."""
        for m in messages:
            key = (m.subject, m.subject_id)
            if m.msg_type == MsgType.CANCEL:
                self.active.pop(key, None)
            else:
                self.active.setdefault(key, []).append(m)


def _driver_silent(last: AlertMessage, colour: PlaceColour) -> bool:
    """Whether the member that drove the last message is now without data (and not lifted)."""
    exp = last.explanation or {}
    member = f"{exp.get('station')}/{exp.get('hazard')}"
    return member in colour.unknown_keys


def _colour(level: int) -> str:
    return COLOUR_OF_CODE[level + 1] if level >= 0 else "no_data"
