"""No false all-clear: a member without data keeps its last known level (docs/WARNINGS.md).

A member is one hazard at one place (``zhapu/storm_surge``, ``d-zhapu/overtopping``). While it has
data, its assessment is remembered with the time of its newest data. When it turns UNKNOWN (station
silent or stale, no valid reading), it keeps the last known level and explanation, marked
``held`` with ``no_data_since`` (time of the last data and the reason), until

- it reports again: fresh data then sets it, and may lower it after the zone hold time;
- a valid external forecast gives it a level: that assessment is known, so it replaces the held one
  (a forecast may lower it);
- a duty officer lifts it (``POST /api/v1/stations/{id}/lift``, audited): it is then shown at none,
  explained as lifted, until its station reports again.

A member that never had data stays UNKNOWN: no data is not none (docs/DOMAIN.md §7). Pure and
in-process; the alert service persists the rows (``rows``/``restore``) so a restart keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

from marine_watch.risk.assessment import Assessment
from risk_models.levels import COLOUR_OF_CODE
from risk_models.types import UNKNOWN, Hazard
from sensors.catalogue import Catalogue

LOCAL = timezone(timedelta(hours=8))  # the coast's time (China Standard Time)


def local_hhmm(ts_s: float) -> str:
    """HH:MM in the coast's time (+08:00)."""
    return datetime.fromtimestamp(ts_s, UTC).astimezone(LOCAL).strftime("%H:%M")


@dataclass(frozen=True, slots=True)
class Lift:
    """A duty officer's decision that a held member no longer warns."""

    actor: str
    note: str
    at_s: float


@dataclass(frozen=True, slots=True)
class Known:
    """The last known assessment of a member and the time of its newest data."""

    assessment: Assessment
    data_s: float


class LastKnown:
    """Remembers each member's last known assessment; holds it while the member has no data."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        self.known: dict[str, Known] = {}
        self.lifted: dict[str, Lift] = {}
        self.dirty: set[str] = set()  # members whose level, hold or lift changed since last taken

    def apply(self, assessments: Iterable[Assessment], now_s: float) -> list[Assessment]:
        """The assessments with every UNKNOWN member replaced by its held or lifted level."""
        return [self._one(a, now_s) for a in assessments]

    def _one(self, a: Assessment, now_s: float) -> Assessment:
        key = a.key
        if a.level != UNKNOWN:
            before = self.known.get(key)
            data_s = a.data_s if a.data_s is not None else (before.data_s if before else now_s)
            if before is None or before.assessment.level != a.level or key in self.lifted:
                self.dirty.add(key)
            self.known[key] = Known(a, data_s)
            self.lifted.pop(key, None)
            return a
        last = self.known.get(key)
        if last is None:
            return a  # never known: no data is not none
        since = {"ts_s": last.data_s, "local": local_hhmm(last.data_s), "reason": a.reason}
        lift = self.lifted.get(key)
        if lift is not None:
            body = {
                **a.explanation,
                "level": 0,
                "colour": COLOUR_OF_CODE[1],
                "lifted": {"by": lift.actor, "note": lift.note, "at_s": lift.at_s},
                "no_data_since": since,
            }
            return replace(a, level=0, explanation=body, data_s=last.data_s)
        held = last.assessment
        body = {**held.explanation, "held": True, "no_data_since": since}
        return replace(held, explanation=body, reason=a.reason, outlook=(), data_s=last.data_s)

    def held_members(self, current: Mapping[str, Assessment]) -> list[str]:
        """Keys of members now shown at a held level (from the last applied assessments)."""
        return [k for k, a in current.items() if a.explanation.get("held")]

    def lift(
        self, station: str, current: Mapping[str, Assessment], actor: str, note: str, now_s: float
    ) -> list[str]:
        """Lift every held member of ``station`` and of the dike segments its data feeds."""
        places = {station} | {
            s.id for s in self._catalogue.segments if station in (s.tide_station, s.wave_station)
        }
        keys = [
            k
            for k in self.held_members(current)
            if k.rsplit("/", 1)[0] in places and k not in self.lifted
        ]
        for key in keys:
            self.lifted[key] = Lift(actor, note, now_s)
            self.dirty.add(key)
        return keys

    def take_dirty(self) -> list[tuple[str, str]]:
        """(member, JSON-ready row) of the members that changed, and forget that they changed."""
        rows = [(k, self.row(k)) for k in sorted(self.dirty)]
        self.dirty.clear()
        return [(k, r) for k, r in rows if r]

    def row(self, key: str) -> str:
        """One member as a JSON text (empty when nothing is remembered)."""
        known = self.known.get(key)
        if known is None:
            return ""
        a, lift = known.assessment, self.lifted.get(key)
        return json.dumps(
            {
                "place": a.place,
                "hazard": a.hazard.value,
                "level": a.level,
                "explanation": dict(a.explanation),
                "data_s": known.data_s,
                "lift": None if lift is None else [lift.actor, lift.note, lift.at_s],
            },
            default=str,
        )

    def restore(self, rows: Iterable[str]) -> None:
        """Rebuild from stored rows (after a restart): held members stay held."""
        for text in rows:
            row = json.loads(text)
            a = Assessment(
                row["place"], Hazard(row["hazard"]), int(row["level"]), row["explanation"]
            )
            self.known[a.key] = Known(a, float(row["data_s"]))
            if row.get("lift"):
                actor, note, at_s = row["lift"]
                self.lifted[a.key] = Lift(str(actor), str(note), float(at_s))
