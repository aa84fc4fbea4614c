"""A private Mosquitto run exactly as `marine-watch mqtt-accounts` writes it (accounts, ACL, TLS)."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from marine_watch.cli.main import main
from marine_watch.mqtt.accounts import ACCOUNTS_JSON, SERVICE_PASSWORD, Accounts, load_accounts
from marine_watch.mqtt.client import Account, MqttEndpoint
from tests.security.certs import Pki
from tests.services import CONFIG_DIR, HOST, Broker, find_binary, free_port, wait_for_port

ROOT = "marine/v1"  # the generated ACL is written for the configured topic root


@dataclass
class SecuredBroker:
    """The broker process and what a client needs to reach it."""

    broker: Broker
    folder: Path
    field_port: int
    service_port: int
    tls_port: int | None
    accounts: Accounts

    @property
    def field(self) -> MqttEndpoint:
        return MqttEndpoint(HOST, self.field_port)

    def station(self, station_id: str) -> Account:
        return self.accounts.stations[station_id]

    def service_settings(self) -> dict[str, Any]:
        """Settings overrides for the service on the service listener with its account."""
        return {
            "mqtt_url": f"mqtt://{HOST}:{self.service_port}",
            "mqtt_username": self.accounts.service.username,
            "mqtt_password_file": self.folder / SERVICE_PASSWORD,
            "mqtt_topic_root": ROOT,
            "mqtt_client_id": self.accounts.client_id,
        }

    def stop(self) -> None:
        self.broker.stop()


def generate(folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run `marine-watch mqtt-accounts --out folder ARGS` on the shipped config/; its exit code."""
    monkeypatch.setenv("MARINE_WATCH_CONFIG_DIR", str(CONFIG_DIR))
    user = ["--broker-user", "root"] if os.geteuid() == 0 else []  # else it drops to "mosquitto"
    return main(["mqtt-accounts", "--out", str(folder), *user, *args])


def start_secured(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    pki: Pki | None = None,
    service_tls: bool = False,
    extra_conf: str = "",
) -> SecuredBroker:
    """Generate the set-up into ``folder`` and run `mosquitto -c folder/mosquitto.conf`."""
    port, service_port = free_port(), free_port()
    args = ["--port", str(port), "--bind", HOST, "--service-port", str(service_port)]
    tls_port = None
    if pki is not None:
        tls_port = free_port()
        args += ["--tls-port", str(tls_port), "--cert", str(pki.cert), "--key", str(pki.key)]
        args += ["--cafile", str(pki.ca)] + (["--service-tls"] if service_tls else [])
    assert generate(folder, monkeypatch, *args) == 0
    conf = folder / "mosquitto.conf"
    if extra_conf:
        conf.write_text(conf.read_text(encoding="utf-8") + extra_conf + "\n", encoding="utf-8")
    broker = Broker(
        HOST, port, conf, folder / "mosquitto.out", find_binary("mosquitto", "mosquitto")
    )
    broker.start()
    for other in (service_port, tls_port):
        if other is not None:
            wait_for_port(HOST, other, proc=broker.proc, log=broker.log)
    accounts = load_accounts(folder / ACCOUNTS_JSON)
    return SecuredBroker(broker, folder, port, service_port, tls_port, accounts)
