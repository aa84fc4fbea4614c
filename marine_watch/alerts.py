"""Tiered alerts: a zone's colour rising or falling raises, updates or cancels its alert.

Lifecycle per incident (DOMAIN.md §6.3): Alert, then Update at each colour change (``references``
chains every earlier message), then Cancel when the zone is back to none. Each message has its own
identifier. Unknown (no data) never cancels: no data is not none (§7). A station that goes silent
raises its own alert to duty officers, cancelled when it reports again.

The book is pure (colours in, messages out); the store keeps messages, acknowledgements and the
audit trail in SQLite (data_dir/alerts.sqlite3), so the lifecycle survives a restart.
"""

import json
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from marine_watch.serial import SerialExecutor, connect_durable
from marine_watch.zones import PlaceColour
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

    def to_dict(self) -> dict[str, object]:
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
            "explanation": dict(self.explanation) if self.explanation else None,
        }


def new_identifier(subject_id: str, sent_s: float) -> str:
    """Unique, CAP-safe (no spaces, commas, '<' or '&')."""
    stamp = datetime.fromtimestamp(sent_s, UTC).strftime("%Y%m%dT%H%M%S")
    return f"mw-{subject_id}-{stamp}-{secrets.token_hex(4)}"


@dataclass
class AlertBook:
    """The open incidents and the rules that turn colour changes into messages."""

    active: dict[tuple[Subject, str], list[AlertMessage]] = field(default_factory=dict)

    def on_colour(self, colour: PlaceColour, now_s: float) -> AlertMessage | None:
        """Raise, update or cancel the zone's alert; None when nothing is due."""
        if colour.kind != Subject.ZONE.value or colour.level == UNKNOWN:
            return None
        key = (Subject.ZONE, colour.id)
        chain = self.active.get(key)
        hazard = (colour.driver or {}).get("hazard", "marine hazard")
        if chain is None:
            if colour.level <= 0:
                return None
            headline = (
                f"{colour.colour.capitalize()} {hazard} warning for {colour.id} ({colour.tier})"
            )
            return self._open(
                key, colour.tier, MsgType.ALERT, colour.level, headline, colour.driver, now_s
            )
        if colour.level == chain[-1].level:
            return None
        if colour.level <= 0:
            return self._close(key, f"All clear: {hazard} warning for {colour.id} lifted", now_s)
        verb = "raised" if colour.level > chain[-1].level else "lowered"
        headline = f"{hazard} warning for {colour.id} ({colour.tier}) {verb} to {colour.colour}"
        return self._next(key, MsgType.UPDATE, colour.level, headline, colour.driver, now_s)

    def on_station(
        self, station: str, status: str, reason: str | None, now_s: float
    ) -> AlertMessage | None:
        """A station going stale raises an alert; reporting again cancels it."""
        key = (Subject.STATION, station)
        if status == "stale" and key not in self.active:
            headline = f"Station {station} is silent: {reason}"
            return self._open(
                key, None, MsgType.ALERT, UNKNOWN, headline, {"reason": reason}, now_s
            )
        if status == "ok" and key in self.active:
            return self._close(key, f"Station {station} reports again", now_s)
        return None

    def _open(
        self,
        key: tuple[Subject, str],
        tier: str | None,
        msg_type: MsgType,
        level: int,
        headline: str,
        explanation: Mapping[str, object] | None,
        now_s: float,
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
            headline,
            explanation,
        )
        self.active[key] = [message]
        return message

    def _next(
        self,
        key: tuple[Subject, str],
        msg_type: MsgType,
        level: int,
        headline: str,
        explanation: Mapping[str, object] | None,
        now_s: float,
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
            headline,
            explanation,
        )
        chain.append(message)
        return message

    def _close(self, key: tuple[Subject, str], headline: str, now_s: float) -> AlertMessage:
        level = 0 if key[0] == Subject.ZONE else UNKNOWN
        message = self._next(key, MsgType.CANCEL, level, headline, None, now_s)
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


def _colour(level: int) -> str:
    return COLOUR_OF_CODE[level + 1] if level >= 0 else "no_data"


_COLUMNS = (
    "identifier, incident, subject, subject_id, tier, msg_type, level, colour, sent_s, refs,"
    " headline, explanation"
)


class AlertStore:
    """Messages, acknowledgements and the audit trail, on one SQLite thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._exec = SerialExecutor("alerts")
        self._db: sqlite3.Connection | None = None

    async def open(self) -> list[AlertMessage]:
        """Open the file; return every stored message, oldest first (to restore the book)."""
        return await self._exec.run(self._open)

    def _open(self) -> list[AlertMessage]:
        db = connect_durable(self._path)
        db.execute(
            "CREATE TABLE IF NOT EXISTS message (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " identifier TEXT UNIQUE, incident TEXT, subject TEXT, subject_id TEXT, tier TEXT,"
            " msg_type TEXT, level INTEGER, colour TEXT, sent_s REAL, refs TEXT, headline TEXT,"
            " explanation TEXT)"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, ts_s REAL,"
            " actor TEXT, action TEXT, subject_id TEXT, identifier TEXT, detail TEXT)"
        )
        db.execute("CREATE INDEX IF NOT EXISTS audit_subject ON audit (subject_id, action, id)")
        db.commit()
        self._db = db
        return self._select("1=1 ORDER BY seq", ())

    def _select(self, where: str, args: tuple[object, ...]) -> list[AlertMessage]:
        assert self._db is not None
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM message WHERE {where}", args)
        return [_message(row) for row in rows]

    async def add(self, message: AlertMessage) -> None:
        await self._exec.run(self._add, message)

    def _add(self, m: AlertMessage) -> None:
        assert self._db is not None
        self._db.execute(
            f"INSERT INTO message ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                m.identifier,
                m.incident,
                m.subject.value,
                m.subject_id,
                m.tier,
                m.msg_type.value,
                m.level,
                m.colour,
                m.sent_s,
                json.dumps(m.references),
                m.headline,
                json.dumps(m.explanation, default=str) if m.explanation else None,
            ),
        )
        self._insert_audit(
            AuditEntry(
                m.sent_s, "system", m.msg_type.value.lower(), m.subject_id, m.identifier, m.headline
            )
        )
        self._db.commit()

    async def audit(self, entry: AuditEntry) -> None:
        """Append one line to the audit trail, durably."""
        await self._exec.run(self._audit, entry)

    def _audit(self, entry: AuditEntry) -> None:
        assert self._db is not None
        self._insert_audit(entry)
        self._db.commit()

    def _insert_audit(self, entry: AuditEntry) -> None:
        assert self._db is not None
        self._db.execute(
            "INSERT INTO audit (ts_s, actor, action, subject_id, identifier, detail) VALUES (?,?,?,?,?,?)",
            entry,
        )

    async def colours(self, changes: list[tuple[str, int, str, float]]) -> None:
        """Record colour changes (place, level, colour, ts) for the zone history."""
        await self._exec.run(self._colours, changes)

    def _colours(self, changes: list[tuple[str, int, str, float]]) -> None:
        assert self._db is not None
        self._db.executemany(
            "INSERT INTO audit (ts_s, actor, action, subject_id, identifier, detail) VALUES (?,?,?,?,?,?)",
            [
                (ts, "system", "colour", place, None, json.dumps({"level": lv, "colour": c}))
                for place, lv, c, ts in changes
            ],
        )
        self._db.commit()

    async def messages(
        self, *, subject_id: str | None = None, limit: int = 100, subject: Subject | None = None
    ) -> list[AlertMessage]:
        """Newest first."""
        where, args = "1=1", []
        if subject_id:
            where += " AND subject_id = ?"
            args.append(subject_id)
        if subject:
            where += " AND subject = ?"
            args.append(subject.value)
        return await self._exec.run(
            self._select, f"{where} ORDER BY seq DESC LIMIT ?", (*args, limit)
        )

    async def message(self, identifier: str) -> AlertMessage | None:
        found = await self._exec.run(self._select, "identifier = ?", (identifier,))
        return found[0] if found else None

    async def trail(
        self, *, subject_id: str | None = None, action: str | None = None, limit: int = 500
    ) -> list[dict[str, object]]:
        """Audit rows, oldest first."""
        return await self._exec.run(self._trail, subject_id, action, limit)

    def _trail(
        self, subject_id: str | None, action: str | None, limit: int
    ) -> list[dict[str, object]]:
        assert self._db is not None
        sql = "SELECT ts_s, actor, action, subject_id, identifier, detail FROM audit WHERE 1=1"
        args: list[object] = []
        if subject_id:
            sql += " AND subject_id = ?"
            args.append(subject_id)
        if action:
            sql += " AND action = ?"
            args.append(action)
        sql += " ORDER BY id DESC LIMIT ?"
        cols = ("ts_s", "actor", "action", "subject_id", "identifier", "detail")
        rows = self._db.execute(sql, [*args, limit]).fetchall()
        return [dict(zip(cols, r, strict=True)) for r in reversed(rows)]

    async def close(self) -> None:
        if self._db is not None:
            await self._exec.run(self._db.close)
            self._db = None
        self._exec.shutdown()


def _message(row: tuple[object, ...]) -> AlertMessage:
    (
        ident,
        incident,
        subject,
        subject_id,
        tier,
        msg_type,
        level,
        colour,
        sent,
        refs,
        headline,
        exp,
    ) = row
    return AlertMessage(
        str(ident),
        str(incident),
        Subject(str(subject)),
        str(subject_id),
        None if tier is None else str(tier),
        MsgType(str(msg_type)),
        int(str(level)),
        str(colour),
        float(str(sent)),
        tuple((str(i), float(s)) for i, s in json.loads(str(refs))),
        str(headline),
        json.loads(str(exp)) if exp else None,
    )
