"""MQTT ingest: a persistent QoS 1 session whose messages are acknowledged only once durable.

Messages are acknowledged by hand (marine_watch/mqtt/session.py :class:`ManualAck`).

The guarantee: a reading is acknowledged to the broker only after it is in the store or the disk
spool (or, if malformed, in the dead-letter table). Anything not yet durable when the process dies
is redelivered by the broker on reconnect (same client id, persistent session), and the idempotent
store absorbs the duplicates. Another value for a point key already seen is a conflict: it is
dead-lettered (reason ``conflict``) and never reaches the store, so stored history is not rewritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import aiomqtt
import structlog

from marine_watch.ingest.dead_letters import DeadLetter, DeadLetters
from marine_watch.ingest.partition import topic_filters
from marine_watch.ingest.writer import Delivery
from marine_watch.metrics import Metrics
from marine_watch.mqtt.client import Brokers
from marine_watch.mqtt.session import Backoff, ManualAck, check_granted, make_client
from marine_watch.settings import Settings
from sensors.catalogue import QcRules
from sensors.payload import PayloadError, decode
from sensors.qc import QcHistory
from sensors.reading import Batch, Block, QcFlag, Reading

log = structlog.get_logger(__name__)

_OK = QcFlag.OK.value
_CONFLICT = QcFlag.CONFLICT.value
#: ``{root}/risk/{zone}`` (retained colours we publish) and ``{root}/forecast/by/{name}/{station}`` (forecast
#: input, handled by marine_watch.inputs.forecasts) are not readings; no station may take these ids.
RESERVED_SUBTREES = ("risk", "forecast")


def subscription(settings: Settings) -> str:
    """The topic filter, as a shared subscription when a group is set (scale-out on a broker cluster)."""
    topic = f"{settings.mqtt_topic_root.rstrip('/')}/#"
    return f"$share/{settings.mqtt_shared_group}/{topic}" if settings.mqtt_shared_group else topic


def subscriptions(settings: Settings, partition: tuple[str, ...] | None = None) -> list[str]:
    """The node's topic filters: its partition's stations (``{root}/{station}/#``), else the root."""
    if partition is None:
        return [subscription(settings)]
    return topic_filters(settings.mqtt_topic_root, partition)


class LogGate:
    """At most ``per_s`` log lines per second for each reason: a flood of junk is counted in
    /metrics and the dead-letter table, not written to the log line by line."""

    def __init__(self, per_s: float = 5.0) -> None:
        self._per_s = per_s
        self._seen: dict[str, tuple[float, float, int]] = {}  # reason -> (tokens, at, suppressed)

    def take(self, reason: str, now: float) -> int | None:
        """None to skip this line; else how many lines of ``reason`` were skipped before it."""
        tokens, at, skipped = self._seen.get(reason, (self._per_s, now, 0))
        tokens = min(self._per_s, tokens + (now - at) * self._per_s)
        if tokens < 1.0:
            self._seen[reason] = (tokens, now, skipped + 1)
            return None
        self._seen[reason] = (tokens - 1.0, now, 0)
        return skipped


@dataclass
class IngestDeps:
    """What ingest talks to."""

    settings: Settings
    stations: frozenset[str]
    queue: asyncio.Queue[Delivery]
    dead_letters: DeadLetters
    metrics: Metrics
    on_readings: Callable[[list[Block]], None]
    now_s: Callable[[], float]
    qc: QcRules
    store_readings: bool = True  # False on a risk node: acknowledged once in the live state
    elsewhere: frozenset[str] = frozenset()  # other regions' stations: acknowledged, ignored
    brokers: Brokers | None = None  # which broker each client is on (failover); made if None
    partition: tuple[str, ...] | None = None  # this node's stations (ingest_partition), else all
    resolution: Mapping[str, Mapping[str, float]] = field(
        default_factory=dict
    )  # station → kind → step


class Ingest:
    """Subscribe, decode, hand readings to the writer; reconnect with capped backoff and jitter."""

    def __init__(self, deps: IngestDeps) -> None:
        self._d = deps
        self.connected = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self.sessions = 0  # connections made, each with its subscriptions granted
        if deps.brokers is None:
            deps.brokers = Brokers(deps.settings, deps.metrics)
        self.link = deps.brokers.link("ingest")
        root = deps.settings.mqtt_topic_root.rstrip("/")
        self._root = root + "/"
        #: Subtrees under the root that are not station readings (MQTT filters cannot exclude them).
        self._own_prefixes = tuple(f"{root}/{sub}/" for sub in RESERVED_SUBTREES)
        self._log_gate = LogGate()
        self._qc = QcHistory(
            deps.qc, deps.resolution
        )  # decided once here, so a replay writes the identical point

    def seed_qc(self, readings: list[Reading]) -> None:
        """Warm start: stored readings and their flags, so redeliveries get the same flag."""
        self._qc.seed(readings)

    def backlog(self) -> int:
        """Messages received but not yet handled (aiomqtt's own, unbounded queue)."""
        return 0 if self._client is None else len(self._client.messages)

    async def run(self) -> None:
        """Hold the persistent session, on the next broker of ``mqtt_url`` after each loss."""
        backoff = Backoff(tls=self._d.settings.mqtt_tls)
        partition = self._d.partition
        if partition is None and self._d.settings.regions:  # a regional risk node: its stations
            partition = tuple(sorted(self._d.stations))
        topics = subscriptions(self._d.settings, partition)
        link = self.link
        while True:
            client = self._client = make_client(self._d.settings, link=link)
            acks = ManualAck(client)  # acks of an older connection are dropped: redelivered here
            try:
                async with client:
                    acks.new_connection()
                    granted = await client.subscribe([(topic, 1) for topic in topics])
                    check_granted(topics, granted)
                    self.sessions += 1
                    link.up()
                    self.connected.set()
                    log.info("mqtt_connected", broker=link.current.url, topics=len(topics))
                    backoff.reset()
                    async for message in client.messages:
                        await self._handle(message, acks)
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                await self._leftovers(client, acks)
                link.down()
                await backoff.wait("mqtt_disconnected", exc, next_untried=link.untried)

    async def _leftovers(self, client: aiomqtt.Client, acks: ManualAck) -> None:
        """Handle what the lost connection delivered but ingest had not yet taken.

        Their acks are dropped (the connection is gone), so a broker that kept them redelivers them
        and the idempotent store absorbs the duplicate; a broker that crashed forgot them, and this
        is their only copy. The next connection is a new client, so this is the last chance.
        """
        with contextlib.suppress(aiomqtt.MqttError):
            while len(client.messages):
                await self._handle(await anext(client.messages), acks)

    async def _handle(self, message: aiomqtt.Message, acks: ManualAck) -> None:
        d = self._d
        d.metrics.messages.inc()
        topic = message.topic.value
        payload = bytes(message.payload)
        ack = acks.acker(message)
        if topic.startswith(self._own_prefixes):  # our own outputs and forecast inputs
            ack()
            return
        if d.elsewhere and topic[len(self._root) :].split("/", 1)[0] in d.elsewhere:
            ack()  # another region's station (an older subscription of this session): not ours
            return
        try:
            decoded = decode(
                topic,
                payload,
                root=d.settings.mqtt_topic_root,
                stations=d.stations,
                now_s=d.now_s(),
                max_bytes=d.settings.max_payload_bytes,
                future_tolerance_s=d.settings.future_tolerance_s,
                ranges=d.qc.range,
            )
        except PayloadError as err:
            # queued, acknowledged once its batch is durable: a flood of junk is written in
            # batches while the next messages (good readings among them) go on
            await self._dead_letter(topic, payload, [(err.reason.value, err.detail, payload)], ack)
            return
        if decoded.rejects:
            await self._dead_letter(
                topic,
                payload,
                [(r.reason.value, r.detail, r.item.encode()) for r in decoded.rejects],
            )
        blocks = await self._refuse_conflicts(topic, payload, self._qc.check_blocks(decoded.blocks))
        self._count(blocks)
        if blocks:
            d.on_readings(blocks)
        if blocks and d.store_readings:
            await d.queue.put(Delivery(Batch(blocks), ack, topic))  # bounded: slows us when full
            d.metrics.queue_depth.set(d.queue.qsize())
        else:
            ack()

    async def _refuse_conflicts(
        self, topic: str, payload: bytes, blocks: list[Block]
    ) -> list[Block]:
        """Blocks without the readings that would rewrite a stored point; those are dead-lettered."""
        if not any(_CONFLICT in block.qc for block in blocks):
            return blocks
        kept, refused = [], []
        for block in blocks:
            rest, conflicts = block.split(_CONFLICT)
            if len(rest):
                kept.append(rest)
            for ts_ns, value in conflicts:
                first = self._qc.first_value(block.station, block.kind, ts_ns)
                item = {
                    "station": block.station,
                    "kind": block.kind,
                    "ts_ns": ts_ns,
                    "value": value,
                }
                detail = (
                    f"{block.station} {block.kind} at ts_ns={ts_ns} already has the value {first!r};"
                    f" {value!r} is refused, stored history is never rewritten"
                )
                refused.append((_CONFLICT, detail, json.dumps(item).encode()))
        await self._dead_letter(topic, payload, refused)
        return kept

    def _count(self, blocks: list[Block]) -> None:
        # One metric update per series and message, not per reading (labels() takes a lock).
        metrics = self._d.metrics
        for block in blocks:
            metrics.received.labels(block.kind).inc(len(block))
            if block.qc.count(_OK) != len(block):
                for flag, n in Counter(q for q in block.qc if q != _OK).items():
                    metrics.qc_flagged.labels(block.kind, flag).inc(n)

    async def _dead_letter(
        self,
        topic: str,
        payload: bytes,
        items: list[tuple[str, str, bytes]],
        ack: Callable[[], None] | None = None,
    ) -> None:
        """Dead-letter ``items``; with ``ack``, queue them and acknowledge once durable, else wait."""
        now = time.time()
        letters = [
            DeadLetter(topic, now, reason, detail, raw, len(raw)) for reason, detail, raw in items
        ]
        if ack is None:
            await self._d.dead_letters.add(letters)
        else:
            await self._d.dead_letters.submit(letters, ack)
        for reason, detail, _ in items:
            self._d.metrics.dead_letters.labels(reason).inc()
            suppressed = self._log_gate.take(reason, now)
            if suppressed is None:
                continue  # a flood: counted in /metrics, logged in the next summary
            log.warning(
                "payload_dead_lettered",
                topic=topic,
                reason=reason,
                detail=detail,
                size=len(payload),
                suppressed_since_last=suppressed,
            )
