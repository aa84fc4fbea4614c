"""Fixtures of the security tests: the generated broker set-up (with TLS) and the service on it."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from marine_watch.settings import Settings
from tests.security.broker import SecuredBroker, start_secured
from tests.security.certs import Pki, make_pki
from tests.services import CONFIG_DIR


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A CA and a broker certificate for localhost and 127.0.0.1, made now."""
    return make_pki(tmp_path / "pki")


@pytest.fixture
def secured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pki: Pki) -> Iterator[SecuredBroker]:
    """`marine-watch mqtt-accounts` output run by a private Mosquitto: plain and TLS field
    listeners, and the (plain) service listener."""
    broker = start_secured(tmp_path / "broker", monkeypatch, pki=pki)
    yield broker
    broker.stop()


@pytest.fixture
def service_settings(tmp_path: Path, secured: SecuredBroker) -> Callable[..., Settings]:
    """Settings for the service on ``secured`` with its account, over the plain service port."""

    def make(**extra: object) -> Settings:
        values: dict[str, Any] = {
            "config_dir": CONFIG_DIR,
            "data_dir": tmp_path / "data",
            "store": "sqlite",
            "risk_tick_s": 0.5,
            "batch_max_wait_s": 0.05,
            **secured.service_settings(),
            **extra,
        }
        return Settings(**values)

    return make
