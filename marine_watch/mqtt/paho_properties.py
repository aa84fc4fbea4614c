"""paho's MQTT 5 properties with their lookup tables built once per process, not once per message.

paho-mqtt decodes every incoming PUBLISH into a new ``Properties``, whose ``__init__`` rebuilds three
tables (property names, value types, which property fits which packet: 27 entries, a list each)
and whose ``unpack`` first walks all 27 names to clear attributes a new object cannot have. Under a
flood of junk that was a quarter of the service's event-loop time per message, more than decoding,
dead-lettering and acknowledging it together (BENCHMARKS.md, ``bench_hostile``). paho only ever
reads these tables, so every instance can share one copy. :func:`install` puts this class where
paho's packet decoder (the private ``paho.mqtt._packet``) looks it up; the decoded properties are
the same, which tests/marine_watch/mqtt/test_paho_properties.py checks against paho's own class.
"""

from __future__ import annotations

from typing import Any

import paho.mqtt._packet as paho_packet
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

_TABLES: dict[str, Any] = {
    name: table
    for name, table in vars(Properties(PacketTypes.PUBLISH)).items()  # type: ignore[no-untyped-call]
    if name != "packetType"
}
_OWN = frozenset(("packetType", *_TABLES))


class SharedTableProperties(Properties):
    """paho's ``Properties``, its read-only tables shared by every instance."""

    def __init__(self, packetType: int) -> None:
        object.__setattr__(self, "packetType", packetType)
        for name, table in _TABLES.items():
            object.__setattr__(self, name, table)

    def clear(self) -> None:
        """Drop every property set on this instance (the tables stay)."""
        for name in [name for name in vars(self) if name not in _OWN]:
            delattr(self, name)


def install() -> None:
    """Have paho decode incoming packets' properties with :class:`SharedTableProperties`."""
    paho_packet.Properties = SharedTableProperties  # type: ignore[attr-defined]
