"""Broker accounts from config/: the plan, accounts.json, the private files and the command-line
layout, function by function (tests/security/test_accounts.py runs `marine-watch mqtt-accounts`)."""

import argparse
import json
import stat
from pathlib import Path

import pytest

from marine_watch.errors import ConfigError
from marine_watch.mqtt import accounts as mod
from marine_watch.mqtt.accounts import (
    ACCOUNTS_JSON,
    SERVICE_PASSWORD,
    Accounts,
    AccountsIn,
    ForecasterIn,
    ReaderIn,
    layout_of,
    load_accounts,
    owner_of,
    plan,
    read_accounts_config,
    write_private,
    write_setup,
)
from marine_watch.mqtt.broker_config import Layout
from marine_watch.mqtt.nats_accounts import FILE as NATS_USERS

WANTED = AccountsIn(
    forecasters={"zmfo": ForecasterIn(source="Zhejiang office")},
    readers={"sirens": ReaderIn(), "api-1": ReaderIn(about="API node")},
)
SERVICE = ("marine-watch", "marine-watch-ingest")


def test_the_plan_names_every_account_by_its_prefix() -> None:
    planned = plan(["zhapu", "mast-2"], WANTED, SERVICE, None)
    assert planned.service.username == "marine-watch"
    assert planned.client_id == "marine-watch-ingest"
    assert {k: a.username for k, a in planned.stations.items()} == {
        "zhapu": "station-zhapu",
        "mast-2": "station-mast-2",
    }
    assert [a.username for a in planned.forecasters.values()] == ["forecaster-zmfo"]
    assert [a.username for a in planned.readers.values()] == ["reader-sirens", "reader-api-1"]
    passwords = [a.password for a in [planned.service, *planned.field_accounts()]]
    assert len(set(passwords)) == len(passwords) == 6
    assert all(len(p) >= 32 for p in passwords)
    assert [a.username for a in planned.field_accounts()] == [
        "station-zhapu",
        "station-mast-2",
        "forecaster-zmfo",
        "reader-sirens",
        "reader-api-1",
    ]


def test_a_new_plan_keeps_known_passwords_and_makes_new_ones_only_for_new_accounts() -> None:
    first = plan(["zhapu"], WANTED, SERVICE, None)
    again = plan(["zhapu", "new"], WANTED, SERVICE, first)
    assert again.service.password == first.service.password
    assert again.stations["zhapu"].password == first.stations["zhapu"].password
    assert again.readers["sirens"].password == first.readers["sirens"].password
    assert again.stations["new"].password not in {a.password for a in first.field_accounts()}
    rotated = plan(["zhapu"], WANTED, SERVICE, first, rotate=True)
    assert rotated.service.password != first.service.password
    assert rotated.stations["zhapu"].password != first.stations["zhapu"].password


@pytest.mark.parametrize("client_id", ["station-x", "forecaster-ingest", "reader-1"])
def test_a_service_client_id_a_field_account_could_take_is_refused(client_id: str) -> None:
    with pytest.raises(ConfigError, match="mqtt_client_id"):
        plan([], AccountsIn(), ("svc", client_id), None)


def test_accounts_json_round_trips(tmp_path: Path) -> None:
    planned = plan(["zhapu"], WANTED, SERVICE, None)
    doc = planned.to_json()
    assert list(doc) == ["service", "stations", "forecasters", "readers"]
    path = tmp_path / ACCOUNTS_JSON
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_accounts(path) == planned
    assert Accounts.from_json(json.loads(json.dumps(doc))) == planned


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "file not found (run `marine-watch mqtt-accounts`)"),
        ("{not json", "not an accounts file"),
        ('{"service": {"username": "x"}}', "not an accounts file"),
        ("[]", "not an accounts file"),
    ],
)
def test_a_missing_or_malformed_accounts_file_is_a_config_error(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / ACCOUNTS_JSON
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_accounts(path)
    assert err.value.path == str(path)
    assert problem in err.value.problem


def test_the_accounts_config_is_optional_and_checked(tmp_path: Path) -> None:
    assert read_accounts_config(tmp_path) == AccountsIn()
    toml = tmp_path / "mqtt_accounts.toml"
    toml.write_text('[readers.ok]\nabout = "x"\n[forecasters.zmfo]\nsource = "Z"\n')
    read = read_accounts_config(tmp_path)
    assert list(read.readers) == ["ok"]
    assert read.forecasters["zmfo"].source == "Z"
    toml.write_text("[readers.Bad-Name]\n")
    with pytest.raises(ConfigError) as err:
        read_accounts_config(tmp_path)
    assert err.value.key == "readers.Bad-Name.[key]"
    toml.write_text("[forecasters.zmfo]\n")
    with pytest.raises(ConfigError) as err:
        read_accounts_config(tmp_path)
    assert err.value.key == "forecasters.zmfo.source"
    toml.write_text("[readers\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_accounts_config(tmp_path)


def test_a_private_file_is_0600_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]  # no temporary file left


def test_a_failed_private_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_private(path, "half written \ud800")  # fails inside the write
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_the_set_up_is_written_private_with_nats_users_on_request(tmp_path: Path) -> None:
    planned = plan(["zhapu"], WANTED, SERVICE, None)
    out = tmp_path / "broker"
    layout = Layout(out, out / "data", port=1883)
    written = write_setup(planned, layout, "marine/v1", nats=True)
    names = {p.name for p in written}
    assert names == {
        "mosquitto.conf",
        "passwd",
        "service.passwd",
        "acl",
        ACCOUNTS_JSON,
        SERVICE_PASSWORD,
        NATS_USERS,
    }
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    assert (out / SERVICE_PASSWORD).read_text() == planned.service.password + "\n"
    assert load_accounts(out / ACCOUNTS_JSON) == planned
    field = (out / "passwd").read_text()
    assert "station-zhapu:$7$" in field
    assert "marine-watch:" not in field  # the service account exists on its own listener only
    assert (out / "service.passwd").read_text().startswith("marine-watch:$7$")
    assert stat.S_IMODE((out / "data").stat().st_mode) == 0o700
    again = write_setup(planned, layout, "marine/v1")
    assert NATS_USERS not in {p.name for p in again}


def test_an_owner_is_a_user_name_or_numeric_ids() -> None:
    assert owner_of("1000") == (1000, 1000)
    assert owner_of("1000:50") == (1000, 50)
    assert owner_of("root") == (0, 0)
    with pytest.raises(ConfigError, match="no such user"):
        owner_of("no-such-user-here")


def args(tmp_path: Path, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    mod.add_accounts_command(parser.add_subparsers())
    return parser.parse_args(["mqtt-accounts", "--out", str(tmp_path), *argv])


def test_the_layout_defaults_to_the_next_port_on_localhost(tmp_path: Path) -> None:
    layout = layout_of(args(tmp_path, "--port", "1883"), 4096)
    assert layout == Layout(
        tmp_path.resolve(),
        tmp_path.resolve() / "data",
        port=1883,
        service_port=1884,
        service_bind="127.0.0.1",
        max_payload_bytes=4096,
    )


def test_the_layout_takes_tls_and_a_broker_user(tmp_path: Path) -> None:
    argv = ["--port", "1", "--tls-port", "8883", "--cert", "c.pem", "--key", "k.pem"]
    layout = layout_of(args(tmp_path, *argv, "--broker-user", "mosquitto"), 1)
    assert layout.tls is not None
    assert (layout.tls.port, layout.tls.cert, layout.tls.cafile) == (
        8883,
        Path("c.pem").resolve(),
        None,
    )
    assert layout.broker_user == "mosquitto"
    numeric = layout_of(args(tmp_path, "--port", "1", "--broker-user", "1000"), 1)
    assert numeric.broker_user is None  # a uid owns the files but is no `user` line


@pytest.mark.parametrize(
    "argv",
    [
        ("--tls-port", "8883"),
        ("--tls-port", "8883", "--cert", "c.pem"),
        ("--service-tls", "--cert", "c.pem", "--key", "k.pem"),
    ],
)
def test_tls_needs_a_port_a_certificate_and_a_key(tmp_path: Path, argv: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError, match="TLS needs --tls-port, --cert and --key"):
        layout_of(args(tmp_path, "--port", "1", *argv), 1)
