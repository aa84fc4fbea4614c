"""mqtts:// means TLS with the broker verified (CA and host name); anything else fails, loudly."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from marine_watch.mqtt.client import MqttEndpoint
from marine_watch.settings import Settings
from tests.helpers import serve
from tests.security.broker import ROOT, SecuredBroker, start_secured
from tests.security.certs import Pki, make_pki
from tests.security.traffic import publish_as, reading, refused_loudly, wait_stored
from tests.services import CONFIG_DIR, HOST

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]
#: paho-mqtt 2.2 (Client._ssl_wrap_socket) leaves the socket open when the TLS handshake fails;
#: CPython closes it once the error is dropped, with a ResourceWarning the refusal tests expect.
HANDSHAKE_LEAK = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning",
    "ignore:unclosed <ssl.SSLSocket:ResourceWarning",
)


@pytest.fixture
def tls_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> Iterator[SecuredBroker]:
    """The generated set-up with TLS on the field and the service listener."""
    broker = start_secured(tmp_path / "tls", monkeypatch, pki=pki, service_tls=True)
    yield broker
    broker.stop()


def settings_for(broker: SecuredBroker, tmp_path: Path, url: str, ca: Path) -> Settings:
    return Settings(
        **{**broker.service_settings(), "mqtt_url": url},
        mqtt_ca_file=ca,
        config_dir=CONFIG_DIR,
        data_dir=tmp_path / "data",
        store="sqlite",
        batch_max_wait_s=0.05,
    )


async def test_the_service_verifies_the_broker_and_works_over_tls(
    tls_broker: SecuredBroker, pki: Pki, tmp_path: Path
) -> None:
    """Service and station both on TLS, the broker verified by the CA and its name: readings flow."""
    for host in ("localhost", HOST):  # a name and an address, both in the certificate
        url = f"mqtts://{host}:{tls_broker.service_port}"
        settings = settings_for(tls_broker, tmp_path / host, url, pki.ca)
        async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
            field = MqttEndpoint(host, tls_broker.tls_port or 0, tls=True, ca_file=pki.ca)
            value = 1.23 if host == HOST else 2.34
            await publish_as(
                field,
                tls_broker.station("zhapu"),
                [(f"{ROOT}/zhapu/tide_level", reading(value), False)],
            )
            assert value in await wait_stored(http, "zhapu", 1)


@HANDSHAKE_LEAK
async def test_a_broker_certified_by_another_ca_is_refused(
    tls_broker: SecuredBroker, tmp_path: Path
) -> None:
    """With a CA file that did not sign the broker's certificate, no connection (and an error that says why)."""
    stranger = make_pki(tmp_path / "stranger")
    url = f"mqtts://{HOST}:{tls_broker.service_port}"
    errors = await refused_loudly(settings_for(tls_broker, tmp_path, url, stranger.ca))
    assert errors
    assert "certificate verify failed" in str(errors[0]["error"])
    assert "MARINE_WATCH_MQTT_CA_FILE" in str(errors[0]["fix"])


@HANDSHAKE_LEAK
async def test_a_certificate_for_another_host_name_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A certificate from the right CA but for another name than the URL's host is refused."""
    elsewhere = make_pki(tmp_path / "pki", names=("broker.elsewhere.test",), ip="10.9.9.9")
    broker = start_secured(tmp_path / "broker", monkeypatch, pki=elsewhere, service_tls=True)
    try:
        url = f"mqtts://{HOST}:{broker.service_port}"
        errors = await refused_loudly(settings_for(broker, tmp_path, url, elsewhere.ca))
    finally:
        broker.stop()
    assert errors
    assert "IP address mismatch" in str(errors[0]["error"]) or "hostname" in str(errors[0]["error"])


@HANDSHAKE_LEAK
async def test_an_mqtts_url_never_falls_back_to_plaintext(
    secured: SecuredBroker, pki: Pki, tmp_path: Path
) -> None:
    """mqtts:// pointed at a plaintext listener fails the TLS handshake; nothing is sent in the clear."""
    url = f"mqtts://{HOST}:{secured.service_port}"
    errors = await refused_loudly(settings_for(secured, tmp_path, url, pki.ca))
    assert errors
    assert "TLS listener" in str(errors[0]["fix"])
    assert "u'marine-watch'" not in secured.broker.log.read_text()  # never got in, in any form


def test_mqtts_defaults_to_port_8883() -> None:
    """mqtts://host without a port means 8883, the TLS port (mqtt:// stays 1883)."""
    assert Settings(mqtt_url="mqtts://broker.example").mqtt_port == 8883
    assert Settings(mqtt_url="mqtt://broker.example").mqtt_port == 1883
