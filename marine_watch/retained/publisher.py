"""Retained MQTT risk topics under ``{root}/risk/``: what API nodes rebuild every public answer from.

Contract version 2 (docs/ARCHITECTURE.md §3), every payload with ``"v": 2``:

* ``{root}/risk/{place_id}``: a place's colour (zone or dike segment), as ``PlaceColour``;
* ``{root}/risk/_station/{station_id}``: a station's summary and its hazard assessments (outlook);
* ``{root}/risk/_node/{node}``: the risk node's heartbeat after each evaluation: its regions, the
  service time of the evaluation and the wall clock time it was published at (colour age);
* ``{root}/risk/_alerts/{node}``: the latest public zone alert messages (the Atom/CAP feed).

Changes are coalesced per topic (latest wins), so the buffer is bounded by the number of places and
stations whatever the rate of change; a broker outage loses nothing that matters because the next
publish carries the current state, retained.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING

import aiomqtt
import structlog

from marine_watch.alerts.book import AlertMessage, MsgType, Subject
from marine_watch.alerts.cap import FEED_SIZE
from marine_watch.mqtt.client import BrokerLink
from marine_watch.mqtt.session import Backoff, side_client
from marine_watch.risk.assessment import Assessment
from marine_watch.risk.zones import PlaceColour
from marine_watch.settings import Settings
from risk_models.types import Hazard

if TYPE_CHECKING:
    from marine_watch.risk.pipeline import Pipeline

log = structlog.get_logger(__name__)
VERSION = 2
STATION, NODE, ALERTS = "_station", "_node", "_alerts"


def node_name(settings: Settings) -> str:
    """The risk node's name on the topics: its regions, or ``all``."""
    return "+".join(sorted(settings.regions)) if settings.regions else "all"


def _dumps(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, default=str, allow_nan=False, separators=(",", ":")).encode()


def place_wire(colour: PlaceColour, now_s: float) -> dict[str, object]:
    """A place's colour as the retained topic carries it."""
    return {
        "v": VERSION,
        **colour.to_dict(),
        "held": colour.held,
        "unknown_keys": sorted(colour.unknown_keys),
        "ts": now_s,
    }


def place_from_wire(body: Mapping[str, object]) -> PlaceColour:
    """The PlaceColour of a place payload (ValueError/KeyError/TypeError on a bad one)."""
    driver, held = body.get("explanation"), body.get("held")
    since = body.get("no_data_since") or []
    if not isinstance(since, list) or not all(isinstance(s, dict) for s in since):
        msg = "no_data_since must be a list of objects"
        raise TypeError(msg)
    kind, tier = str(body["kind"]), body.get("tier")
    if kind not in ("zone", "segment"):
        msg = f"unknown place kind {kind!r}"
        raise ValueError(msg)
    return PlaceColour(
        id=str(body["id"]),
        kind=kind,
        tier=None if tier is None else str(tier),
        level=int(body["level"]),  # type: ignore[call-overload]
        colour=str(body["colour"]),
        driver=dict(driver) if isinstance(driver, dict) else None,
        unknown=tuple(str(u) for u in body.get("no_data") or ()),  # type: ignore[attr-defined]
        since_s=float(body["since_s"]),  # type: ignore[arg-type]
        held=dict(held) if isinstance(held, dict) else None,
        unknown_keys=frozenset(str(k) for k in body.get("unknown_keys") or ()),  # type: ignore[attr-defined]
        no_data_since=tuple(since),
    )


def assessment_wire(a: Assessment) -> dict[str, object]:
    """An assessment as the retained topic carries it."""
    return {
        "place": a.place,
        "hazard": a.hazard.value,
        "level": a.level,
        "explanation": dict(a.explanation),
        "reason": a.reason,
        "outlook": list(a.outlook),
        "data_s": a.data_s,
        "water_hourly_m": list(a.water_hourly_m),
    }


def assessment_from_wire(body: Mapping[str, object]) -> Assessment:
    """The assessment a retained topic carried (inverse of :func:`assessment_wire`)."""
    explanation = body.get("explanation")
    data_s = body.get("data_s")
    return Assessment(
        str(body["place"]),
        Hazard(str(body["hazard"])),
        int(body["level"]),  # type: ignore[call-overload]
        dict(explanation) if isinstance(explanation, dict) else {},
        None if body.get("reason") is None else str(body["reason"]),
        tuple(int(x) for x in body.get("outlook") or ()),  # type: ignore[attr-defined]
        None if data_s is None else float(data_s),  # type: ignore[arg-type]
        tuple(float(x) for x in body.get("water_hourly_m") or ()),  # type: ignore[attr-defined]
    )


def alert_wire(m: AlertMessage) -> dict[str, object]:
    """Every field of a message (CAP needs the texts and the reference times)."""
    return {
        **m.to_dict(),
        "references": [[i, s] for i, s in m.references],
        "texts": m.texts,
    }


def alert_from_wire(body: Mapping[str, object]) -> AlertMessage:
    """The alert message a retained topic carried."""
    refs = body.get("references") or []
    explanation, texts = body.get("explanation"), body.get("texts")
    return AlertMessage(
        str(body["identifier"]),
        str(body["incident"]),
        Subject(str(body["subject"])),
        str(body["subject_id"]),
        None if body.get("tier") is None else str(body["tier"]),
        MsgType(str(body["msg_type"])),
        int(body["level"]),  # type: ignore[call-overload]
        str(body["colour"]),
        float(body["sent_s"]),  # type: ignore[arg-type]
        tuple((str(i), float(s)) for i, s in refs),  # type: ignore[attr-defined]
        str(body["headline"]),
        dict(explanation) if isinstance(explanation, dict) else None,
        dict(texts) if isinstance(texts, dict) else None,
        None if body.get("response_type") is None else str(body["response_type"]),
    )


class RiskTopics:
    """Pipeline listener plus publisher worker with its own MQTT client."""

    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline | None = None,
        link: BrokerLink | None = None,
    ) -> None:
        self._settings = settings
        self._pipeline = pipeline
        self._link = link  # moves on to the next broker of mqtt_url after a lost connection
        self._pending: dict[str, bytes] = {}
        self._sent_stations: dict[str, bytes] = {}  # last station body sent, without its ts
        self._feed: deque[AlertMessage] = deque(maxlen=FEED_SIZE)
        self._ready = asyncio.Event()
        self.root = f"{settings.mqtt_topic_root.rstrip('/')}/risk"
        self.node = node_name(settings)

    def seed_alerts(self, newest_first: list[AlertMessage]) -> None:
        """The feed as stored before a restart (newest first, as the store answers)."""
        self._feed.extend(reversed(newest_first[:FEED_SIZE]))
        self._queue_alerts()

    def on_alert(self, message: AlertMessage) -> None:
        """Alert service listener: a public zone message joins the retained feed."""
        if message.subject == Subject.ZONE:
            self._feed.append(message)
            self._queue_alerts()

    def _queue_alerts(self) -> None:
        body = {"v": VERSION, "node": self.node, "messages": [alert_wire(m) for m in self._feed]}
        self._pending[f"{ALERTS}/{self.node}"] = _dumps(body)
        self._ready.set()

    def on_change(self, changed: list[PlaceColour], now_s: float) -> None:
        """Pipeline listener (after every evaluation): changed colours, stations, heartbeat."""
        for colour in changed:
            self._pending[colour.id] = _dumps(place_wire(colour, now_s))
        if self._pipeline is not None:
            self._queue_stations(self._pipeline, now_s)
        heartbeat = {
            "v": VERSION,
            "node": self.node,
            "regions": sorted(self._settings.regions) or None,
            "evaluated_s": now_s,
            "wall_s": time.time(),
        }
        self._pending[f"{NODE}/{self.node}"] = _dumps(heartbeat)
        self._ready.set()

    def _queue_stations(self, pipeline: Pipeline, now_s: float) -> None:
        by_station: dict[str, list[Assessment]] = {}
        for (place, _), a in pipeline.assessments.items():
            by_station.setdefault(place, []).append(a)
        for station in pipeline.catalogue.stations:
            body = {
                "v": VERSION,
                "id": station.id,
                "summary": pipeline.station_summary(station.id),
                "assessments": [assessment_wire(a) for a in by_station.get(station.id, [])],
            }
            encoded = _dumps(body)
            if self._sent_stations.get(station.id) != encoded:
                self._sent_stations[station.id] = encoded
                self._pending[f"{STATION}/{station.id}"] = _dumps({**body, "ts": now_s})

    async def run(self) -> None:
        """Publish the risk topics until cancelled, reconnecting with backoff."""
        backoff = Backoff(tls=self._settings.mqtt_tls)
        link = self._link
        while True:
            try:
                async with side_client(self._settings, "risk", link) as client:
                    if link is not None:
                        link.up()
                    backoff.reset()
                    await self._publish_forever(client)
            except aiomqtt.MqttError as exc:
                if link is not None:
                    link.down()
                await backoff.wait(
                    "risk_topics_disconnected", exc, next_untried=link is not None and link.untried
                )

    async def _publish_forever(self, client: aiomqtt.Client) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            batch, self._pending = self._pending, {}
            try:
                for topic, body in batch.items():
                    await client.publish(f"{self.root}/{topic}", body, qos=1, retain=True)
            except aiomqtt.MqttError:
                for topic, body in batch.items():  # not yet superseded: retry after reconnect
                    self._pending.setdefault(topic, body)
                self._ready.set()
                raise
