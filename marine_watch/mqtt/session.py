"""The service's MQTT sessions: persistent sessions, manual acknowledgement, reconnect backoff.

aiomqtt 2.x sends the PUBACK as soon as a message enters its queue and has no public manual-ack
API (aiomqtt issue #345 / PR #346). paho-mqtt underneath has ``manual_ack_set(True)`` and
``ack(mid, qos)``; :class:`ManualAck` is the one place that reaches it, through the private
``Client._client`` (pinned by tests/marine_watch/mqtt/test_session.py against the installed aiomqtt).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

import aiomqtt
import paho.mqtt.client as paho
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from marine_watch.mqtt.client import BrokerLink, MqttEndpoint, config_failure, service_account
from marine_watch.settings import Settings

log = structlog.get_logger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600  # keep the broker-side session (and its queue) for a week
RECEIVE_MAXIMUM = 65535  # unacknowledged QoS 1 messages the broker may have in flight to us
SUBACK_FAILURE = 0x80  # a SUBACK return code from 0x80 up refuses the subscription


class ManualAck:
    """Acknowledge QoS 1 messages ourselves, on the connection that received them."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self._paho: paho.Client = client._client
        self._paho.manual_ack_set(True)
        self.generation = 0

    def new_connection(self) -> None:
        """A reconnect invalidates older message ids (the broker redelivers those messages)."""
        self.generation += 1

    def acker(self, message: aiomqtt.Message) -> Callable[[], None]:
        """A callable that acknowledges ``message`` once, if its connection is still the current one."""
        if message.qos == 0:
            return _noop
        generation, mid, qos = self.generation, message.mid, message.qos

        def ack() -> None:
            if generation == self.generation and self._paho.is_connected():
                self._paho.ack(mid, qos)

        return ack


def _noop() -> None:
    return None


def make_client(
    settings: Settings, *, client_id: str | None = None, link: BrokerLink | None = None
) -> aiomqtt.Client:
    """A client with a persistent session on the link's current broker (else the first of
    ``mqtt_url``); must be created inside the running loop.

    MQTT 5: ``clean_start=false``, session expiry 7 days, Receive Maximum 65,535. MQTT 3.1.1:
    ``clean_session=false``; the session lives until the broker drops it and the in-flight window
    is the broker's setting (docs/DELIVERY.md).
    """
    identifier = client_id or settings.mqtt_client_id
    endpoint = MqttEndpoint.of_service(settings) if link is None else link.current
    account = service_account(settings)
    if settings.mqtt_protocol == "3.1.1":
        return endpoint.client(identifier, account, clean_session=False, keepalive=30)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    return endpoint.client(identifier, account, clean_start=False, properties=props, keepalive=30)


def side_client(settings: Settings, role: str, link: BrokerLink | None = None) -> aiomqtt.Client:
    """A plain client of the service for ``role`` (forecast input, risk output): own id, no session."""
    endpoint = MqttEndpoint.of_service(settings) if link is None else link.current
    return endpoint.client(f"{settings.mqtt_client_id}-{role}", service_account(settings))


def check_granted(topics: list[str], granted: object) -> None:
    """A subscription the broker refused (SUBACK failure, e.g. no permission) is no subscription."""
    codes = list(granted) if isinstance(granted, list | tuple) else []
    refused = [
        topic
        for topic, code in zip(topics, codes, strict=False)
        if (code.is_failure if isinstance(code, ReasonCode) else int(code) >= SUBACK_FAILURE)
    ]
    if refused:
        msg = (
            f"the broker refused the subscription to {', '.join(refused)}: check the account's ACL"
        )
        raise aiomqtt.MqttError(msg)


@dataclass
class Backoff:
    """Reconnect delays: doubling from ``first_s`` to ``cap_s``, with jitter (aiomqtt docs/reconnection.md)."""

    first_s: float = 0.5
    cap_s: float = 30.0
    _next_s: float = 0.5
    tls: bool = False  # a cut-off connection then means a plaintext listener behind mqtts://

    def reset(self) -> None:
        """Start again from the first delay (after a successful connection)."""
        self._next_s = self.first_s

    def next_delay(self, *, next_untried: bool = False) -> float:
        """The next delay in seconds, jittered; it doubles (up to ``cap_s``) unless ``next_untried``."""
        if next_untried:
            return self.first_s * (1 + random.random())  # noqa: S311 - reconnect jitter, not a secret
        delay = self._next_s * (1 + random.random())  # noqa: S311 - reconnect jitter, not a secret
        self._next_s = min(self._next_s * 2, self.cap_s)
        return delay

    async def wait(self, event: str, error: Exception, *, next_untried: bool = False) -> None:
        """Log the disconnection (an error with a hint when only an operator can fix it), then sleep.

        ``next_untried``: the client moves on to another broker of its list that has not failed
        yet in this round, so it waits the first delay only; the delay doubles once per round."""
        delay = self.next_delay(next_untried=next_untried)
        fix = config_failure(error, tls=self.tls)
        if fix is None:
            log.warning(event, error=str(error), retry_s=round(delay, 2))
        else:
            log.error(event, error=str(error), fix=fix, retry_s=round(delay, 2))
        await asyncio.sleep(delay)
