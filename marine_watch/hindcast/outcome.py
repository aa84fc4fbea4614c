"""What a hindcast run produced: samples per gauge, the colour timeline, the alert messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from marine_watch.alerts.book import AlertMessage
from marine_watch.hindcast.case import Case, Record
from risk_models import tide
from sensors.catalogue import Catalogue


@dataclass
class Sample:
    """What the pipeline said about one gauge at one evaluation."""

    ts_s: float
    level: int
    value_m: float | None  # the level-deciding water: observed or highest forecast high water
    next_hw_s: float | None
    next_hw_m: float | None
    surge_m: float | None


@dataclass
class TimelineRow:
    """One colour change in a hindcast: when, where, what and why."""

    ts_s: float
    place: str
    tier: str
    colour: str
    hazard: str
    value: float | None
    threshold: float | None


@dataclass
class Outcome:
    """Everything a run produced (inputs kept for the plots)."""

    case: Case
    method: str
    catalogue: Catalogue
    records: dict[str, Record]
    constants: dict[str, tide.TideConstants]
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    timeline: list[TimelineRow] = field(default_factory=list)
    messages: list[AlertMessage] = field(default_factory=list)
    readings: int = 0
    flagged: int = 0
    evaluations: int = 0
