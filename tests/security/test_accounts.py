"""`marine-watch mqtt-accounts` writes a complete, private broker set-up and keeps its passwords."""

import json
import stat
import tomllib
from pathlib import Path

import pytest

from marine_watch.settings import Settings
from tests.security.broker import generate
from tests.services import CONFIG_DIR

FILES = {
    "mosquitto.conf",
    "passwd",
    "service.passwd",
    "acl",
    "accounts.json",
    "service.password",
}


def station_ids() -> list[str]:
    doc = tomllib.loads((CONFIG_DIR / "stations.toml").read_text(encoding="utf-8"))
    return [s["id"] for s in doc["stations"]]


def test_writes_every_file_0600_with_the_accounts_json_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six files, each mode 0600; accounts.json has exactly service/stations/forecasters/readers; no clear password leaks."""
    assert generate(tmp_path, monkeypatch, "--port", "1883") == 0
    assert {p.name for p in tmp_path.iterdir() if p.is_file()} == FILES
    for name in FILES:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    doc = json.loads((tmp_path / "accounts.json").read_text())
    assert list(doc) == ["service", "stations", "forecasters", "readers"]
    assert set(doc["service"]) == {"username", "password", "client_id"}
    assert doc["service"]["client_id"] == "marine-watch-ingest"
    assert list(doc["stations"]) == station_ids()
    assert list(doc["forecasters"]) == ["zmfo"]
    assert list(doc["readers"]) == ["sirens", "api-1", "api-2"]
    groups = [doc["stations"], doc["forecasters"], doc["readers"]]
    accounts = [a for group in groups for a in group.values()]
    assert all(set(a) == {"username", "password"} for a in accounts)
    passwords = [a["password"] for a in [*accounts, doc["service"]]]
    assert len(set(passwords)) == len(passwords)  # every account its own password
    assert all(len(p) >= 32 for p in passwords)
    for name in ("mosquitto.conf", "passwd", "service.passwd", "acl"):
        text = (tmp_path / name).read_text()
        assert not [p for p in passwords if p in text], name
    passwd = (tmp_path / "passwd").read_text().splitlines()
    assert [line.split(":")[0] for line in passwd] == [a["username"] for a in accounts]
    assert all(line.split(":", 1)[1].startswith("$7$10000$") for line in passwd)  # PBKDF2-SHA512
    assert (tmp_path / "service.passwd").read_text().startswith("marine-watch:$7$")
    assert (tmp_path / "service.password").read_text().strip() == doc["service"]["password"]


def test_nats_writes_the_same_accounts_hashed_for_a_nats_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--nats adds nats-users.conf (0600): every account, bcrypt-hashed, none in clear; a station
    may publish under its own id only (tests/integration/test_broker_cluster.py runs it)."""
    assert generate(tmp_path, monkeypatch, "--port", "1883", "--nats") == 0
    path = tmp_path / "nats-users.conf"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    doc = json.loads((tmp_path / "accounts.json").read_text())
    accounts = [
        doc["service"],
        *(a for g in ("stations", "forecasters", "readers") for a in doc[g].values()),
    ]
    assert not [a["password"] for a in accounts if a["password"] in text]
    users = [json.loads(line.rstrip(",")) for line in text.splitlines() if line.startswith("    {")]
    assert [u["user"] for u in users] == [a["username"] for a in accounts]
    assert all(u["password"].startswith("$2a$11$") for u in users)
    zhapu = next(u for u in users if u["user"] == "station-zhapu")
    assert zhapu["permissions"]["publish"]["allow"] == ["marine.v1.zhapu", "marine.v1.zhapu.>"]
    assert zhapu["permissions"]["subscribe"] == {"deny": [">"]}


def test_running_again_keeps_passwords_and_rotate_replaces_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run changes no password (stations keep working); --rotate changes every one."""
    assert generate(tmp_path, monkeypatch, "--port", "1883") == 0
    first = json.loads((tmp_path / "accounts.json").read_text())
    assert generate(tmp_path, monkeypatch, "--port", "1883") == 0
    assert json.loads((tmp_path / "accounts.json").read_text()) == first
    assert generate(tmp_path, monkeypatch, "--port", "1883", "--rotate") == 0
    rotated = json.loads((tmp_path / "accounts.json").read_text())
    assert rotated["service"]["password"] != first["service"]["password"]
    assert all(
        rotated["stations"][s]["password"] != first["stations"][s]["password"]
        for s in first["stations"]
    )


def test_refuses_a_service_client_id_that_a_field_account_could_take(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A field account's client id is its name (station-…): the service's id must not look like one."""
    monkeypatch.setenv("MARINE_WATCH_MQTT_CLIENT_ID", "station-zhapu")
    assert generate(tmp_path, monkeypatch, "--port", "1883") == 2
    assert "mqtt_client_id" in capsys.readouterr().err
    assert not (tmp_path / "accounts.json").exists()


def test_tls_needs_a_port_a_certificate_and_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--tls-port without --cert/--key is a usage error, not a broker that fails later."""
    assert generate(tmp_path, monkeypatch, "--port", "1883", "--tls-port", "8883") == 2
    assert "--cert" in capsys.readouterr().err


def test_the_broker_url_carries_no_account() -> None:
    """An account in MARINE_WATCH_MQTT_URL is refused: URLs end up in logs and `check-config`."""
    with pytest.raises(ValueError, match="no account in the URL"):
        Settings(mqtt_url="mqtt://marine-watch:secret@broker:1884")
