"""Prometheus metrics, one registry per app instance (so tests can build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    """Counters per kind and stage; exposed at /metrics."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.received = Counter(
            "mw_readings_received", "Readings decoded from MQTT", ["kind"], registry=r
        )
        self.messages = Counter("mw_messages_received", "MQTT messages received", registry=r)
        self.stored = Counter("mw_readings_stored", "Readings written to the store", registry=r)
        self.spooled = Counter(
            "mw_readings_spooled", "Readings written to the disk spool", registry=r
        )
        self.replayed = Counter(
            "mw_readings_replayed", "Readings replayed from the spool", registry=r
        )
        self.dead_letters = Counter(
            "mw_dead_letters", "Payloads dead-lettered", ["reason"], registry=r
        )
        self.dead_letters_stored = Gauge(
            "mw_dead_letters_stored", "Dead letters kept, per reason", ["reason"], registry=r
        )
        self.dead_letters_pruned = Gauge(
            "mw_dead_letters_pruned", "Dead letters deleted by retention since start", registry=r
        )
        self.qc_flagged = Counter(
            "mw_readings_qc_flagged", "Readings with a QC flag", ["kind", "flag"], registry=r
        )
        self.queue_depth = Gauge(
            "mw_ingest_queue_depth", "Deliveries waiting for the writer", registry=r
        )
        self.mqtt_backlog = Gauge(
            "mw_mqtt_backlog", "Messages in the MQTT client queue", registry=r
        )
        self.spool_pending = Gauge(
            "mw_spool_pending_batches", "Batches waiting in the spool", registry=r
        )
        self.store_seconds = Histogram(
            "mw_store_write_seconds",
            "Store batch write latency",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.ws_clients = Gauge(
            "mw_ws_clients", "Connected websocket clients", ["channel"], registry=r
        )
        self.mqtt_broker = Gauge(
            "mw_mqtt_broker",
            "1 for the broker each MQTT client of the service is on, 0 for one it left",
            ["client", "broker"],
            registry=r,
        )
        self.mqtt_connected = Gauge(
            "mw_mqtt_connected", "1 while the MQTT client is connected", ["client"], registry=r
        )
        self.mqtt_failovers = Counter(
            "mw_mqtt_failovers",
            "Moves of an MQTT client to the next broker",
            ["client"],
            registry=r,
        )
        self.risk_changes = Counter("mw_risk_changes", "Zone or segment colour changes", registry=r)
