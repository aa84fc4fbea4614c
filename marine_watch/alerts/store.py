"""Alert messages, acknowledgements, the audit trail and the held members, in SQLite.

One file (data_dir/alerts.sqlite3) on one thread, so the alert lifecycle and the members that hold
their last known level (:mod:`marine_watch.risk.last_known`) survive a restart.
"""

import json
import sqlite3
from pathlib import Path

from marine_watch.alerts.book import AlertMessage, AuditEntry, MsgType, Subject
from marine_watch.store.sqlite_file import SqliteFile

_COLUMNS = (
    "identifier, incident, subject, subject_id, tier, msg_type, level, colour, sent_s, refs,"
    " headline, explanation, texts, response_type"
)

_IN_CHUNK = 500  # identifiers per IN (...) query: below SQLite's limit on bound parameters


class AlertStore:
    """Messages, acknowledgements and the audit trail, on one SQLite thread."""

    def __init__(self, path: Path) -> None:
        self._sql = SqliteFile(path, "alerts")

    async def open(self) -> list[AlertMessage]:
        """Open the file; return every stored message, oldest first (to restore the book)."""
        return await self._sql.run(self._open)

    def _open(self, db: sqlite3.Connection) -> list[AlertMessage]:
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
        db.execute("CREATE INDEX IF NOT EXISTS audit_identifier ON audit (identifier, action)")
        have = {row[1] for row in db.execute("PRAGMA table_info(message)")}
        for column in ("texts", "response_type"):  # added later: older files lack them
            if column not in have:
                db.execute(f"ALTER TABLE message ADD COLUMN {column} TEXT")
        db.execute("CREATE TABLE IF NOT EXISTS last_known (member TEXT PRIMARY KEY, row TEXT)")
        db.commit()
        return self._select(db, "1=1 ORDER BY seq", ())

    def _select(
        self, db: sqlite3.Connection, where: str, args: tuple[object, ...]
    ) -> list[AlertMessage]:
        rows = db.execute(f"SELECT {_COLUMNS} FROM message WHERE {where}", args)  # noqa: S608 - callers pass constant clauses
        return [_message(row) for row in rows]

    async def add(self, message: AlertMessage) -> None:
        """Store one alert message."""
        await self._sql.run(self._add, message)

    def _add(self, db: sqlite3.Connection, m: AlertMessage) -> None:
        db.execute(
            f"INSERT INTO message ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608 - column names are constants
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
                json.dumps(m.texts, ensure_ascii=False) if m.texts else None,
                m.response_type,
            ),
        )
        self._insert_audit(
            db,
            AuditEntry(
                m.sent_s, "system", m.msg_type.value.lower(), m.subject_id, m.identifier, m.headline
            ),
        )
        db.commit()

    async def audit(self, entry: AuditEntry) -> None:
        """Append one line to the audit trail, durably."""
        await self._sql.run(self._audit, entry)

    def _audit(self, db: sqlite3.Connection, entry: AuditEntry) -> None:
        self._insert_audit(db, entry)
        db.commit()

    def _insert_audit(self, db: sqlite3.Connection, entry: AuditEntry) -> None:
        db.execute(
            "INSERT INTO audit (ts_s, actor, action, subject_id, identifier, detail) VALUES (?,?,?,?,?,?)",
            entry,
        )

    async def last_known(self) -> list[str]:
        """The stored rows of the members that hold their last known level."""
        return await self._sql.run(self._last_known)

    def _last_known(self, db: sqlite3.Connection) -> list[str]:
        return [str(r[0]) for r in db.execute("SELECT row FROM last_known")]

    async def keep_known(self, rows: list[tuple[str, str]]) -> None:
        """Store (member, row) pairs of the memory, replacing earlier ones."""
        await self._sql.run(self._keep_known, rows)

    def _keep_known(self, db: sqlite3.Connection, rows: list[tuple[str, str]]) -> None:
        db.executemany("INSERT OR REPLACE INTO last_known VALUES (?, ?)", rows)
        db.commit()

    async def colours(self, changes: list[tuple[str, int, str, float]]) -> None:
        """Record colour changes (place, level, colour, ts) for the zone history."""
        await self._sql.run(self._colours, changes)

    def _colours(self, db: sqlite3.Connection, changes: list[tuple[str, int, str, float]]) -> None:
        db.executemany(
            "INSERT INTO audit (ts_s, actor, action, subject_id, identifier, detail) VALUES (?,?,?,?,?,?)",
            [
                (ts, "system", "colour", place, None, json.dumps({"level": lv, "colour": c}))
                for place, lv, c, ts in changes
            ],
        )
        db.commit()

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
        return await self._sql.run(
            self._select, f"{where} ORDER BY seq DESC LIMIT ?", (*args, limit)
        )

    async def message(self, identifier: str) -> AlertMessage | None:
        """The message with this identifier, or None."""
        found = await self._sql.run(self._select, "identifier = ?", (identifier,))
        return found[0] if found else None

    async def trail(
        self, *, subject_id: str | None = None, action: str | None = None, limit: int = 500
    ) -> list[dict[str, object]]:
        """Audit rows, oldest first."""
        return await self._sql.run(self._trail, subject_id, action, limit)

    def _trail(
        self, db: sqlite3.Connection, subject_id: str | None, action: str | None, limit: int
    ) -> list[dict[str, object]]:
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
        rows = db.execute(sql, [*args, limit]).fetchall()
        return [dict(zip(cols, r, strict=True)) for r in reversed(rows)]

    async def events(self, identifier: str, action: str) -> list[dict[str, object]]:
        """Audit rows of one message and action (e.g. acknowledged, escalated), oldest first."""
        return await self._sql.run(self._events, identifier, action)

    def _events(
        self, db: sqlite3.Connection, identifier: str, action: str
    ) -> list[dict[str, object]]:
        cols = ("ts_s", "actor", "action", "subject_id", "identifier", "detail")
        rows = db.execute(
            f"SELECT {', '.join(cols)} FROM audit WHERE identifier = ? AND action = ? ORDER BY id",  # noqa: S608 - column names are constants
            (identifier, action),
        ).fetchall()
        return [dict(zip(cols, r, strict=True)) for r in rows]

    async def acknowledgements(self, identifiers: list[str]) -> dict[str, list[dict[str, object]]]:
        """The acknowledgements of each of these messages (oldest first), in one read."""
        return await self._sql.run(self._acknowledgements, identifiers)

    def _acknowledgements(
        self, db: sqlite3.Connection, identifiers: list[str]
    ) -> dict[str, list[dict[str, object]]]:
        out: dict[str, list[dict[str, object]]] = {i: [] for i in identifiers}
        cols = ("ts_s", "actor", "action", "subject_id", "identifier", "detail")
        wanted = list(out)
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT {', '.join(cols)} FROM audit WHERE action = 'acknowledged'"  # noqa: S608 - constant columns, ? marks
                f" AND identifier IN ({marks}) ORDER BY id",
                chunk,
            )
            for row in rows:
                out[str(row[4])].append(dict(zip(cols, row, strict=True)))
        return out

    async def close(self) -> None:
        """Close the alert database."""
        await self._sql.close()


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
        texts,
        response,
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
        json.loads(str(texts)) if texts else None,
        None if response is None else str(response),
    )
