"""An API node's view of the coast: the retained risk topics, put where the answers look.

``MARINE_WATCH_NODE_ROLE=api`` stores and evaluates nothing. It subscribes to ``{root}/risk/#``
with a reader account and writes what the risk nodes publish (docs/ARCHITECTURE.md §3, version 2)
into the same ``Pipeline`` fields a full node evaluates into (``book.current``, ``assessments``,
``evaluated_s``, station summaries), so the resident answer, the zones and segments, ``/ws/risk``
and the Atom/CAP feed are built by the same code on every node. Retained messages arrive on
subscription, so a node started after its risk nodes answers at once.

Colours age: each risk node's heartbeat carries the wall clock time it was published at (clocks
are NTP-synchronised). Past ``colours_max_age_s`` without one, the places of that node's regions are
shown as no data (level -1, with the reason) instead of their last colour, on every answer and on
``/ws/risk``; the next heartbeat restores the retained colours.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import aiomqtt
import structlog

from marine_watch.alerts.book import AlertMessage, Subject
from marine_watch.mqtt.client import BrokerLink, MqttEndpoint, service_account
from marine_watch.mqtt.session import Backoff
from marine_watch.retained.publisher import (
    ALERTS,
    NODE,
    STATION,
    VERSION,
    alert_from_wire,
    assessment_from_wire,
    place_from_wire,
)
from marine_watch.risk.assessment import Assessment
from marine_watch.risk.pipeline import Pipeline
from marine_watch.risk.zones import PlaceColour
from marine_watch.settings import Settings
from risk_models.levels import COLOUR_OF_CODE
from risk_models.types import UNKNOWN

log = structlog.get_logger(__name__)
WATCH_S = 0.5  # how often the colours' age is checked
RETAINED_GAP_S = 0.3  # the retained burst after subscribing is over after this much quiet...
RETAINED_MAX_S = 5.0  # ...or after this long, on a busy broker


@dataclass
class _Node:
    """What one risk node last said about itself."""

    regions: tuple[str, ...] | None
    evaluated_s: float
    wall_s: float


@dataclass
class RiskMirror:
    """Subscriber worker and watchdog that keep ``pipeline`` current from the broker."""

    settings: Settings
    pipeline: Pipeline
    region_of: Mapping[str, str]  # place or station id → region
    latest: dict[str, PlaceColour] = field(default_factory=dict)  # as published, fresh or not
    nodes: dict[str, _Node] = field(default_factory=dict)
    summaries: dict[str, dict[str, object]] = field(default_factory=dict)
    alerts: dict[str, list[AlertMessage]] = field(default_factory=dict)  # per risk node
    stale_regions: set[str] = field(default_factory=set)
    refused: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    link: BrokerLink | None = (
        None  # moves on to the next broker of mqtt_url after a lost connection
    )
    _pending: dict[str, PlaceColour] = field(default_factory=dict)
    _pending_since: float = 0.0
    _pending_ts: float = 0.0  # the service time of the evaluation the pending colours come from

    def __post_init__(self) -> None:
        self.root = f"{self.settings.mqtt_topic_root.rstrip('/')}/risk"
        self.pipeline.summaries = self.summaries  # station summaries come from the risk nodes
        self.pipeline.freshness_source = self.freshness

    # -- age ---------------------------------------------------------------------------------
    def age_s(self, region: str | None = None) -> float | None:
        """Seconds since the newest heartbeat of the node evaluating ``region`` (any node: None)."""
        walls = [
            n.wall_s
            for n in self.nodes.values()
            if region is None or n.regions is None or region in n.regions
        ]
        return None if not walls else max(0.0, time.time() - max(walls))

    def freshness(self) -> dict[str, object]:
        """The age of the colours, for every answer."""
        age = self.age_s()
        oldest = [self.age_s(r) for r in self._regions()]
        worst = max((a for a in oldest if a is not None), default=age)
        return {
            "colours_age_s": None if worst is None else round(worst, 1),
            "max_age_s": self.settings.colours_max_age_s,
            "stale": bool(self.stale_regions) or worst is None,
            "stale_regions": sorted(self.stale_regions),
        }

    def _regions(self) -> set[str]:
        return set(self.region_of.values())

    # -- broker --------------------------------------------------------------------------------
    async def run(self) -> None:
        """Follow the risk topics; with ``link``, on the next broker of ``mqtt_url`` after a loss."""
        backoff = Backoff(tls=self.settings.mqtt_tls)
        link = self.link
        while True:
            endpoint = MqttEndpoint.of_service(self.settings) if link is None else link.current
            try:
                client = endpoint.client(
                    f"{self.settings.mqtt_client_id}-api", service_account(self.settings)
                )
                async with client:
                    await client.subscribe(f"{self.root}/#", qos=1)
                    if link is not None:
                        link.up()
                    backoff.reset()
                    messages = aiter(client.messages)
                    await self._take_retained(messages)
                    self.connected.set()  # /health says ok: a load balancer may send requests
                    log.info(
                        "risk_mirror_subscribed", topic=f"{self.root}/#", places=len(self.latest)
                    )
                    async for message in messages:
                        self.on_message(str(message.topic), message.payload)
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                if link is not None:
                    link.down()
                await backoff.wait(
                    "risk_mirror_disconnected", exc, next_untried=link is not None and link.untried
                )

    async def _take_retained(self, messages: AsyncIterator[aiomqtt.Message]) -> None:
        """Apply the retained burst that follows a subscription: until a quiet gap, bounded."""
        deadline = time.monotonic() + RETAINED_MAX_S
        while time.monotonic() < deadline:
            try:
                message = await asyncio.wait_for(anext(messages), RETAINED_GAP_S)
            except TimeoutError:
                break
            self.on_message(str(message.topic), message.payload)
        self.flush()

    def on_message(self, topic: str, payload: object) -> None:
        """Apply one retained message; a bad one is counted and logged, never applied."""
        rest = topic.removeprefix(self.root + "/")
        if not isinstance(payload, bytes | bytearray) or not payload:
            return  # an empty retained message clears a topic: nothing to apply
        if len(payload) > self.settings.max_payload_bytes * 4:
            self._refuse(rest, "payload too large")
            return
        try:
            body = json.loads(payload)
            if not isinstance(body, dict) or body.get("v") != VERSION:
                self._refuse(rest, f"not a version {VERSION} risk topic payload")
                return
            self._apply(rest, body)
        except (ValueError, KeyError, TypeError) as exc:
            self._refuse(rest, f"{type(exc).__name__}: {exc}")

    def _refuse(self, topic: str, reason: str) -> None:
        self.refused += 1
        log.warning("risk_topic_refused", topic=topic, reason=reason[:200])

    def _apply(self, rest: str, body: dict[str, object]) -> None:
        kind, _, name = rest.partition("/")
        if kind == NODE:
            regions = body.get("regions")
            self.nodes[name] = _Node(
                None if not regions else tuple(str(r) for r in regions),  # type: ignore[attr-defined]
                float(body["evaluated_s"]),  # type: ignore[arg-type]
                float(body["wall_s"]),  # type: ignore[arg-type]
            )
            self.pipeline.evaluated_s = max(n.evaluated_s for n in self.nodes.values())
            self.flush()  # the heartbeat closes an evaluation: its changes show together
            self.pipeline.assessments = dict(self.pipeline.assessments)  # answers say the new age
            self.check_age()
        elif kind == STATION:
            self._apply_station(name, body)
        elif kind == ALERTS:
            messages = [alert_from_wire(m) for m in body["messages"]]  # type: ignore[attr-defined]
            self.alerts[name] = [m for m in messages if m.subject == Subject.ZONE]
        elif "/" not in rest and not rest.startswith("_"):
            colour = place_from_wire(body)
            if colour.id != rest:
                msg = f"payload id {colour.id!r} is not the topic's {rest!r}"
                raise ValueError(msg)
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending[rest] = colour  # shown with the rest of its evaluation (heartbeat)
            self._pending_ts = float(body.get("ts") or 0.0)  # type: ignore[arg-type]

    def flush(self) -> None:
        """Show the colours received since the last heartbeat, all at once."""
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        self.latest.update(batch)
        shown = [c for p, c in batch.items() if self.region_of.get(p) not in self.stale_regions]
        self._show(shown, self._pending_ts or self.pipeline.evaluated_s or time.time())

    def _apply_station(self, station: str, body: dict[str, object]) -> None:
        summary = body["summary"]
        if not isinstance(summary, dict):
            msg = "summary must be an object"
            raise TypeError(msg)
        found = [assessment_from_wire(a) for a in body.get("assessments") or ()]  # type: ignore[attr-defined]
        kept: dict[tuple[str, str], Assessment] = {
            k: a for k, a in self.pipeline.assessments.items() if k[0] != station
        }
        kept.update({(a.place, a.hazard.value): a for a in found if a.place == station})
        self.summaries[station] = summary
        self.pipeline.assessments = kept  # a new dict: cached answers are rebuilt

    def _show(self, colours: list[PlaceColour], now_s: float) -> None:
        """Make colours current, as an evaluation does: the answers' state and /ws/risk."""
        for colour in colours:
            self.pipeline.book.current[colour.id] = colour
        self.pipeline.assessments = dict(self.pipeline.assessments)  # invalidate cached answers
        self.pipeline.announce(colours, now_s)

    # -- watchdog ------------------------------------------------------------------------------
    async def watch(self) -> None:
        """Forever: mark regions stale past the age limit."""
        while True:
            if self._pending and time.monotonic() - self._pending_since > WATCH_S:
                self.flush()  # a heartbeat lost or late: show what arrived anyway
            self.check_age()
            await asyncio.sleep(WATCH_S)

    def check_age(self) -> None:
        """Mark regions whose colours are older than ``colours_max_age_s`` stale, and current again."""
        limit = self.settings.colours_max_age_s
        for region in self._regions():
            age = self.age_s(region)
            stale = age is None or age > limit
            if stale and region not in self.stale_regions and age is not None:
                self.stale_regions.add(region)
                self._go_stale(region, age)
            elif not stale and region in self.stale_regions:
                self.stale_regions.discard(region)
                back = [c for p, c in self.latest.items() if self.region_of.get(p) == region]
                log.info("risk_colours_current", region=region, places=len(back))
                self._show(back, self.pipeline.evaluated_s or time.time())

    def _go_stale(self, region: str, age_s: float) -> None:
        limit = self.settings.colours_max_age_s
        reason = (
            f"no colours from the risk node of region {region!r} for {age_s:.0f} s"
            f" (limit {limit:g} s): no data, the last colour is not shown as current"
        )
        log.warning("risk_colours_stale", region=region, age_s=round(age_s, 1))
        gone = [
            PlaceColour(
                c.id,
                c.kind,
                c.tier,
                UNKNOWN,
                COLOUR_OF_CODE[UNKNOWN + 1],
                {"reason": reason, "last_level": c.level, "last_colour": c.colour},
                (f"risk node: {reason}",),
                self.pipeline.evaluated_s or time.time(),
            )
            for p, c in self.latest.items()
            if self.region_of.get(p) == region
        ]
        self._show(gone, self.pipeline.evaluated_s or time.time())


@dataclass
class MirroredAlerts:
    """The public alert messages as the risk nodes retain them: what the Atom/CAP routes read."""

    mirror: RiskMirror

    async def messages(
        self, *, subject_id: str | None = None, limit: int = 100, subject: Subject | None = None
    ) -> list[AlertMessage]:
        """Newest first, as the alert store answers."""
        found = [
            m
            for ms in self.mirror.alerts.values()
            for m in reversed(ms)  # newest first; messages sent in the same second keep it
            if (subject_id is None or m.subject_id == subject_id)
            and (subject is None or m.subject == subject)
        ]
        return sorted(found, key=lambda m: m.sent_s, reverse=True)[:limit]

    async def message(self, identifier: str) -> AlertMessage | None:
        """The mirrored message with this identifier, or None."""
        return next(
            (m for ms in self.mirror.alerts.values() for m in ms if m.identifier == identifier),
            None,
        )
