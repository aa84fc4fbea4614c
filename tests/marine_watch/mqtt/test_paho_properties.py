"""paho decodes PUBLISH properties with shared tables, and decodes them exactly as before."""

from __future__ import annotations

import paho.mqtt._packet as paho_packet
import pytest
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.exception import MQTTException
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import marine_watch.mqtt.client  # noqa: F401 (installs the shared tables)
from marine_watch.mqtt.paho_properties import SharedTableProperties

QOS1 = 0x32  # PUBLISH, QoS 1
TOPIC = b"marine/v1/zhapu/tide_level"
PROPS_AT = 2 + len(TOPIC) + 2  # after the topic and the message id


def publish_packet(properties: Properties | None) -> bytes:
    """The variable header and payload of an MQTT 5 PUBLISH, as paho's decoder gets them."""
    props = properties.pack() if properties is not None else b"\x00"  # type: ignore[no-untyped-call]
    return len(TOPIC).to_bytes(2, "big") + TOPIC + (7).to_bytes(2, "big") + props + b"not json"


def some_properties() -> Properties:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.MessageExpiryInterval = 60
    props.ContentType = "application/json"
    props.UserProperty = ("station", "zhapu")
    props.UserProperty = ("fw", "2.1")
    props.CorrelationData = b"\x01\x02"
    return props


def test_the_service_s_paho_decodes_with_the_shared_tables() -> None:
    assert vars(paho_packet)["Properties"] is SharedTableProperties
    decoded = paho_packet.decode_publish(QOS1, publish_packet(None), MQTTProtocolVersion.MQTTv5)
    assert isinstance(decoded.properties, SharedTableProperties)
    assert decoded.mid == 7
    assert decoded.payload == b"not json"


@pytest.mark.parametrize("properties", [None, some_properties()], ids=["none", "five"])
def test_decoded_properties_are_paho_s_own(properties: Properties | None) -> None:
    packet = publish_packet(properties)
    shared = SharedTableProperties(PacketTypes.PUBLISH)
    shared_read, shared_len = shared.unpack(packet[PROPS_AT:])  # type: ignore[no-untyped-call]
    own_read, own_len = Properties(PacketTypes.PUBLISH).unpack(packet[PROPS_AT:])  # type: ignore[no-untyped-call]
    assert shared_len == own_len
    assert shared_read.json() == own_read.json()
    if properties is not None:
        assert shared_read.UserProperty == [("station", "zhapu"), ("fw", "2.1")]


def test_instances_share_the_tables_and_keep_their_own_values() -> None:
    one, two = (
        SharedTableProperties(PacketTypes.PUBLISH),
        SharedTableProperties(PacketTypes.PUBLISH),
    )
    assert one.names is two.names
    assert one.properties is two.properties
    one.ContentType = "text/plain"
    assert not hasattr(two, "ContentType")
    assert two.isEmpty()  # type: ignore[no-untyped-call]
    one.clear()
    assert one.isEmpty()  # type: ignore[no-untyped-call]
    assert one.names is two.names
    assert len(one.names) == 27
    with pytest.raises(MQTTException, match="does not apply to packet type"):
        one.SessionExpiryInterval = 10  # a CONNECT property: paho's own check still holds
