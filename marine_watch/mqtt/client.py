"""How each MQTT client of marine_watch reaches the broker: its account and, for mqtts://, verified TLS.

The service, the simulator and ``replay`` all build their clients here, so no client can forget the
account or fall back to plaintext. An ``mqtts://`` URL always means TLS with the broker's certificate
checked against the CA (``mqtt_ca_file``, else the system's) and the host name in the URL; there is
no switch to turn either check off. Broker accounts and the listener layout: docs/SECURITY.md.
"""

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import aiomqtt
import structlog

from marine_watch.mqtt import paho_properties
from marine_watch.settings import split_mqtt_url

if TYPE_CHECKING:
    from marine_watch.metrics import Metrics
    from marine_watch.settings import Settings

paho_properties.install()  # every client of the service decodes with the shared tables

log = structlog.get_logger(__name__)

_REFUSED = (
    "the broker refused the account: check MARINE_WATCH_MQTT_USERNAME, the password (file) and "
    "that the URL is the service listener (docs/SECURITY.md)"
)
#: Broker answers that no retry will fix without an operator (MQTT 5 reason codes, TLS errors).
_CONFIG_FAILURES = {
    "SSL": "TLS handshake failed: is it a TLS listener, does MARINE_WATCH_MQTT_CA_FILE sign its "
    "certificate, and is the URL's host name in it?",
    "certificate": "the broker's certificate was refused (CA or host name)",
    "code:134": _REFUSED,
    "code:135": _REFUSED,
    "Not authorized": _REFUSED,
    "refused the subscription": "give the service's account read access to its topics (ACL or "
    "NATS permissions, docs/SECURITY.md)",
}


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A client context that verifies the broker: CERT_REQUIRED and host name check, TLS 1.2+."""
    context = ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


_CUT_OFF = ("Connection reset", "EOF occurred", "UNEXPECTED_EOF")


def config_failure(error: Exception, *, tls: bool = False) -> str | None:
    """What to fix when ``error`` means the broker refused us for good (TLS, account); else None.

    With ``tls``, a connection cut off during the handshake is what a plaintext listener does.
    """
    text = str(error)
    if tls and any(cut in text for cut in _CUT_OFF):
        return "the TLS handshake was cut off: is this port a TLS listener (mqtts://)?"
    return next((hint for key, hint in _CONFIG_FAILURES.items() if key in text), None)


@dataclass(frozen=True, slots=True)
class Account:
    """A broker account; the password never appears in a repr or a log line."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    """Where a broker listens and how to reach it."""

    host: str
    port: int
    tls: bool = False
    ca_file: Path | None = None
    protocol: str = "5"  # "5" or "3.1.1"

    @classmethod
    def from_url(
        cls, url: str, *, ca_file: Path | None = None, protocol: str = "5"
    ) -> "MqttEndpoint":
        """The endpoint of an mqtt:// or mqtts:// URL."""
        host, port, tls = split_mqtt_url(url)
        return cls(host, port, tls, ca_file, protocol)

    @classmethod
    def of_service(cls, settings: "Settings") -> "MqttEndpoint":
        """The first broker the service is configured for (``mqtt_url``, ``mqtt_ca_file``)."""
        return cls.all_of_service(settings)[0]

    @classmethod
    def all_of_service(cls, settings: "Settings") -> tuple["MqttEndpoint", ...]:
        """Every broker of ``mqtt_url``, in the order given (members of one cluster)."""
        return tuple(
            cls.from_url(url, ca_file=settings.mqtt_ca_file, protocol=settings.mqtt_protocol)
            for url in settings.mqtt_urls
        )

    @property
    def url(self) -> str:
        """``mqtt[s]://host:port``: the broker's address, never an account."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def version(self) -> aiomqtt.ProtocolVersion:
        """The aiomqtt protocol version: MQTT 5 or 3.1.1."""
        return aiomqtt.ProtocolVersion.V5 if self.protocol == "5" else aiomqtt.ProtocolVersion.V311

    def client(self, identifier: str, account: Account | None, **options: object) -> aiomqtt.Client:
        """An aiomqtt client for ``account`` (create it inside the running loop)."""
        return aiomqtt.Client(
            self.host,
            self.port,
            identifier=identifier,
            protocol=self.version,
            username=None if account is None else account.username,
            password=None if account is None else account.password,
            tls_context=tls_context(self.ca_file) if self.tls else None,
            **options,  # type: ignore[arg-type]  # aiomqtt's keyword arguments, passed through
        )


def service_account(settings: "Settings") -> Account | None:
    """The service's own account from the settings (the password file is read now)."""
    if settings.mqtt_username is None:
        return None
    return Account(settings.mqtt_username, settings.mqtt_secret() or "")


class BrokerLink:
    """Which of the configured brokers one MQTT client of the service is on, and how often it moved.

    The brokers of ``mqtt_url`` are members of one cluster that share the client's persistent
    session: when the connection is lost (or cannot be made), the client moves on to the next one,
    round-robin, with the same client id, and the session — with every message not yet
    acknowledged — continues there. Nobody has to act: a node that comes back is simply in the
    round again.
    """

    def __init__(
        self, name: str, endpoints: tuple[MqttEndpoint, ...], metrics: "Metrics | None" = None
    ) -> None:
        if not endpoints:
            msg = "at least one broker"
            raise ValueError(msg)
        self.name = name
        self.endpoints = endpoints
        self.index = 0
        self.failovers = 0
        self.connected = False
        self.active = False  # set once the client has tried to connect (its worker runs)
        self._misses = 0  # brokers that failed in a row since the last good connection
        self._metrics = metrics

    @property
    def current(self) -> MqttEndpoint:
        """The broker in use now."""
        return self.endpoints[self.index]

    def client(self, identifier: str, account: Account | None, **options: object) -> aiomqtt.Client:
        """A client for the current broker (create it inside the running loop)."""
        return self.current.client(identifier, account, **options)

    @property
    def untried(self) -> bool:
        """The broker it will try next has not failed since the last good connection: worth
        trying at once, before the reconnect delay grows (it grows once per round of the list)."""
        return len(self.endpoints) > 1 and self._misses % len(self.endpoints) != 0

    def up(self) -> None:
        """The client is connected (and subscribed) on the current broker."""
        self.connected = self.active = True
        self._misses = 0
        self._show()

    def down(self) -> None:
        """The connection is lost or was refused: next time, try the next broker of the list."""
        was = self.current
        self.connected, self.active = False, True
        self._misses += 1
        if len(self.endpoints) > 1:
            self._unshow(was)
            self.index = (self.index + 1) % len(self.endpoints)
            self.failovers += 1
            if self._metrics is not None:
                self._metrics.mqtt_failovers.labels(self.name).inc()
            log.warning("mqtt_failover", client=self.name, left=was.url, to=self.current.url)
        self._show()

    def status(self) -> dict[str, object]:
        """The link as the health answer shows it: broker, connected, failovers."""
        return {
            "broker": self.current.url,
            "connected": self.connected,
            "failovers": self.failovers,
        }

    def _show(self) -> None:
        if self._metrics is not None:
            self._metrics.mqtt_broker.labels(self.name, self.current.url).set(1)
            self._metrics.mqtt_connected.labels(self.name).set(1 if self.connected else 0)

    def _unshow(self, endpoint: MqttEndpoint) -> None:
        if self._metrics is not None:
            self._metrics.mqtt_broker.labels(self.name, endpoint.url).set(0)


class Brokers:
    """The broker links of the service's MQTT clients (ingest, forecasts, risk topics), by name."""

    def __init__(self, settings: "Settings", metrics: "Metrics | None" = None) -> None:
        self._endpoints = MqttEndpoint.all_of_service(settings)
        self._metrics = metrics
        self._links: dict[str, BrokerLink] = {}

    def link(self, name: str) -> BrokerLink:
        """The link of client ``name`` (made on first use)."""
        if name not in self._links:
            self._links[name] = BrokerLink(name, self._endpoints, self._metrics)
        return self._links[name]

    def status(self) -> dict[str, dict[str, object]]:
        """Per client: the broker it is on, whether connected, how many failovers so far."""
        return {name: link.status() for name, link in sorted(self._links.items()) if link.active}
