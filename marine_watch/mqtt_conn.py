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

from marine_watch.settings import split_mqtt_url

if TYPE_CHECKING:
    from marine_watch.settings import Settings

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
        host, port, tls = split_mqtt_url(url)
        return cls(host, port, tls, ca_file, protocol)

    @classmethod
    def of_service(cls, settings: "Settings") -> "MqttEndpoint":
        """The broker the service is configured for (``mqtt_url``, ``mqtt_ca_file``)."""
        return cls.from_url(
            settings.mqtt_url, ca_file=settings.mqtt_ca_file, protocol=settings.mqtt_protocol
        )

    @property
    def version(self) -> aiomqtt.ProtocolVersion:
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
