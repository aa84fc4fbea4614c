"""From readings to colours: coast state → hazard assessments → place colours → websockets.

Readings update the state at once and mark it dirty; the evaluator runs on change (debounced) and
on a tick, in the numerics executor on a snapshot of the state, and publishes every colour change.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import structlog

from marine_watch.clock import Clock
from marine_watch.hub import Hub, encode
from marine_watch.metrics import Metrics
from marine_watch.risk.hazards import Assessment, Assessor, surge_rule
from marine_watch.risk.last_known import LastKnown
from marine_watch.risk.state import CoastState, snapshot
from marine_watch.risk.zones import PlaceColour, ZoneBook
from risk_models import tide
from sensors.catalogue import Catalogue
from sensors.reading import Block

log = structlog.get_logger(__name__)
DEBOUNCE_S = 0.05

ChangeListener = Callable[[list[PlaceColour], float], None]
AsyncChangeListener = Callable[[list[PlaceColour], float], Awaitable[None]]
Adjuster = Callable[[list[Assessment], float], list[Assessment]]  # e.g. external forecasts


class Pipeline:
    """Owns the live state of the coast and the current colours."""

    def __init__(  # noqa: PLR0917 - six collaborators of distinct types: mypy catches a swap
        self,
        catalogue: Catalogue,
        constants: Mapping[str, tide.TideConstants],
        hub: Hub,
        metrics: Metrics,
        clock: Clock,
        numerics: ThreadPoolExecutor,
    ) -> None:
        self.catalogue = catalogue
        self.state = CoastState()
        self.assessor = Assessor(catalogue, constants)
        self.book = ZoneBook(catalogue, catalogue.rules.hold_time_s)
        self.memory = LastKnown(catalogue)  # members without data keep their last known level
        self.assessments: dict[tuple[str, str], Assessment] = {}
        self.evaluated_s: float | None = None
        self._hub = hub
        self._metrics = metrics
        self._clock = clock
        self._numerics = numerics
        self._dirty = asyncio.Event()
        self.listeners: list[ChangeListener] = []
        self._snapshot: tuple[object, str] | None = None
        self.async_listeners: list[AsyncChangeListener] = []  # awaited: backpressure, no queue
        self.adjusters: list[Adjuster] = []
        #: On an API node, the station summaries as the risk nodes published them (mirror.py).
        self.summaries: dict[str, dict[str, object]] | None = None
        #: On an API node, the age of the mirrored colours (mirror.py); else that of the evaluation.
        self.freshness_source: Callable[[], dict[str, object]] | None = None

    def on_readings(self, blocks: list[Block]) -> None:
        """Called by ingest for every decoded message (before it is durable)."""
        self.state.add_blocks(blocks)
        if not self._hub.count("feeds"):  # no /ws/feeds client: build no per-reading messages
            self._dirty.set()
            return
        for r in (r for block in blocks for r in block.readings()):
            self._hub.publish(
                "feeds",
                f"{r.station}/{r.kind}",
                {
                    "type": "reading",
                    "station": r.station,
                    "kind": r.kind,
                    "ts": r.ts_ns / 1e9,
                    "value": r.value,
                    "qc": r.qc,
                },
            )
        self._dirty.set()

    def request_evaluation(self) -> None:
        """Evaluate soon (an input other than readings changed, e.g. a forecast)."""
        self._dirty.set()

    async def run(self, tick_s: float) -> None:
        """Evaluate on change and on every tick, forever."""
        while True:
            try:
                await asyncio.wait_for(self._dirty.wait(), tick_s)
                await asyncio.sleep(DEBOUNCE_S)  # gather the readings of a burst
            except TimeoutError:
                pass
            self._dirty.clear()
            await self.evaluate()

    async def evaluate(self) -> list[PlaceColour]:
        """Assess the state now, update the colour book and announce what changed; the colours."""
        now_s = self._clock.now()
        frozen = snapshot(self.state)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        assessments = await loop.run_in_executor(
            self._numerics, self.assessor.assess, frozen, now_s
        )
        for adjust in self.adjusters:
            assessments = adjust(assessments, now_s)
        assessments = self.memory.apply(assessments, now_s)  # after forecasts: they replace holds
        self.assessments = {(a.place, a.hazard.value): a for a in assessments}
        changed = self.book.update(assessments, now_s)
        self.evaluated_s = now_s
        self.announce(changed, now_s)
        for listener in self.listeners:
            listener(changed, now_s)
        for hook in self.async_listeners:
            await hook(changed, now_s)
        if changed:
            log.info(
                "risk_evaluated",
                changed=len(changed),
                ms=round((time.perf_counter() - started) * 1e3, 1),
            )
        return changed

    def announce(self, changed: list[PlaceColour], now_s: float) -> None:
        """Push colour changes to every /ws/risk client (evaluated here or mirrored)."""
        for colour in changed:
            self._metrics.risk_changes.inc()
            self._hub.publish(
                "risk", colour.id, {"type": colour.kind, **colour.to_dict(), "ts": now_s}
            )

    def freshness(self) -> dict[str, object]:
        """How old the colours are: every answer carries it (on an API node, from the mirror)."""
        if self.freshness_source is not None:
            return self.freshness_source()
        age = None if self.evaluated_s is None else max(0.0, self._clock.now() - self.evaluated_s)
        return {
            "colours_age_s": None if age is None else round(age, 1),
            "max_age_s": None,
            "stale": age is None,
            "stale_regions": [],
        }

    def snapshot_text(self) -> str:
        """The snapshot, encoded once per evaluation (thousands of clients may connect at once)."""
        if self._snapshot is None or self._snapshot[0] is not self.assessments:
            self._snapshot = (self.assessments, encode(self.snapshot_message()))
        return self._snapshot[1]

    def snapshot_message(self) -> dict[str, object]:
        """Everything a new /ws/risk client needs to be current at once."""
        return {
            "type": "snapshot",
            "ts": self.evaluated_s,
            "freshness": self.freshness(),
            "places": [c.to_dict() for c in self.book.current.values()],
            "stations": [self.station_summary(s.id) for s in self.catalogue.stations],
        }

    def station_summary(self, station_id: str) -> dict[str, object]:
        """A station's status, last readings and hazard levels, as the API sends them."""
        station = self.catalogue.station(station_id)
        assert station is not None
        if self.summaries is not None:  # an API node: as its risk node last published it
            return self.summaries.get(station_id) or {"id": station_id, "status": "unknown"}
        status, reason = self.assessor.station_status(self.state, station, self._clock.now())
        last = {}
        for kind in self.state.kinds(station_id):
            got = self.state.last_any(station_id, kind)
            if got is not None:
                last[kind] = {"ts": got[0], "value": got[1], "qc": got[2]}
        mine = [a for (p, _), a in self.assessments.items() if p == station_id]
        since = [
            {"hazard": a.hazard.value, "level": a.level, **dict(a.explanation["no_data_since"])}  # type: ignore[call-overload]
            for a in mine
            if a.explanation.get("held")
        ]
        datum = None
        if station.reading_datum is not None:
            datum = {"reading_datum": station.reading_datum, "gauge_to_85_m": station.gauge_to_85_m}
        return {
            "id": station_id,
            "status": status,
            "reason": reason,
            "last": last,
            "hazards": {a.hazard.value: a.level for a in mine},
            "no_data_since": since,
            "surge_rule": surge_rule(station, self.catalogue.rules),
            "tide_datum": datum,
        }
