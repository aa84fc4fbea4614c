"""The Mosquitto set-up as text: password lines, the ACL and mosquitto.conf for a layout
(tests/test_compose.py runs the shipped config; tests/security/test_broker_acl.py enforces the ACL)."""

import base64
import hashlib
from pathlib import Path

from marine_watch.mqtt.broker_config import (
    PACKET_OVERHEAD,
    PAYLOAD_HEADROOM,
    PBKDF2_ITERATIONS,
    SALT_BYTES,
    Grants,
    Layout,
    Tls,
    passwd_line,
    render_acl,
    render_conf,
    render_passwd,
)

ACCOUNTS = Path("/srv/broker/accounts")
DATA = Path("/srv/broker/data/")


def test_a_password_line_is_mosquitto_2_pbkdf2_sha512() -> None:
    """``user:$7$ITERATIONS$base64(salt)$base64(PBKDF2-HMAC-SHA512(password, salt))``."""
    line = passwd_line("station-zhapu", "pw", salt=b"0123456789ab")
    user, rest = line.split(":", 1)
    empty, seven, iterations, salt, digest = rest.split("$")
    assert (user, empty, seven, int(iterations)) == ("station-zhapu", "", "7", PBKDF2_ITERATIONS)
    assert base64.b64decode(salt) == b"0123456789ab"
    expected = hashlib.pbkdf2_hmac("sha512", b"pw", b"0123456789ab", PBKDF2_ITERATIONS)
    assert base64.b64decode(digest) == expected


def test_each_line_gets_a_fresh_salt() -> None:
    one, two = passwd_line("a", "same"), passwd_line("a", "same")
    assert one != two
    assert len(base64.b64decode(one.split("$")[3])) == SALT_BYTES


def test_a_password_file_has_one_line_per_account_in_order() -> None:
    text = render_passwd([("a", "p1"), ("b", "p2")])
    assert text.endswith("\n")
    assert [line.split(":")[0] for line in text.splitlines()] == ["a", "b"]
    assert render_passwd([]) == ""


def test_the_acl_gives_each_account_its_own_part_of_the_tree() -> None:
    grants = Grants(
        "marine-watch",
        {"zhapu": "station-zhapu", "mast-2": "station-mast-2"},
        ["forecaster-zmfo"],
        ["reader-sirens"],
    )
    lines = [
        line for line in render_acl(grants, "marine/v1/").splitlines() if not line.startswith("#")
    ]
    assert [line for line in lines if line] == [
        "user marine-watch",
        "topic read marine/v1/#",
        "topic write marine/v1/risk/#",
        "user station-zhapu",
        "topic write marine/v1/zhapu/#",
        "user station-mast-2",
        "topic write marine/v1/mast-2/#",
        "user forecaster-zmfo",
        "topic write marine/v1/forecast/by/zmfo/#",
        "user reader-sirens",
        "topic read marine/v1/risk/#",
    ]


def test_the_acl_of_nobody_but_the_service_grants_nothing_else() -> None:
    text = render_acl(Grants("svc", {}, [], []), "r")
    users = [line for line in text.splitlines() if line.startswith("user ")]
    assert users == ["user svc"]
    assert "pattern" not in text  # no grant by pattern: every line names its account


def listeners(conf: str) -> list[list[str]]:
    """The conf's listener blocks: the lines from each ``listener`` to the next blank line."""
    blocks, current = [], None
    for line in conf.splitlines():
        if line.startswith("listener "):
            current = [line]
            blocks.append(current)
        elif current is not None and line and not line.startswith("#"):
            current.append(line)
        elif not line:
            current = None
    return blocks


def test_a_plain_layout_has_a_field_and_a_local_service_listener() -> None:
    conf = render_conf(Layout(ACCOUNTS, DATA, port=1883))
    field, service = listeners(conf)
    assert field == [
        "listener 1883",
        "allow_anonymous false",
        f"password_file {ACCOUNTS}/passwd",
        f"acl_file {ACCOUNTS}/acl",
        "use_username_as_clientid true",
    ]
    assert service == [
        "listener 1884 127.0.0.1",
        "allow_anonymous false",
        f"password_file {ACCOUNTS}/service.passwd",
        f"acl_file {ACCOUNTS}/acl",
    ]
    assert conf.startswith("# Mosquitto 2 broker for marine_watch")
    assert "per_listener_settings true" in conf.splitlines()
    assert "persistence_location /srv/broker/data/" in conf.splitlines()
    assert "\nuser " not in conf


def test_tls_adds_a_field_listener_and_can_cover_the_service_listener() -> None:
    tls = Tls(8883, Path("/c/server.pem"), Path("/c/server.key"), Path("/c/ca.pem"))
    layout = Layout(
        ACCOUNTS,
        DATA,
        port=1883,
        bind="10.0.0.5",
        service_port=2000,
        service_bind=None,
        tls=tls,
        service_tls=True,
        broker_user="mosquitto",
    )
    conf = render_conf(layout)
    plain, secure, service = listeners(conf)
    assert plain[0] == "listener 1883 10.0.0.5"
    assert secure[0] == "listener 8883 10.0.0.5"
    tls_lines = [
        "certfile /c/server.pem",
        "keyfile /c/server.key",
        "cafile /c/ca.pem",
        "tls_version tlsv1.2",
    ]
    assert secure[-4:] == tls_lines
    assert "use_username_as_clientid true" in secure
    assert service[0] == "listener 2000"  # every interface
    assert service[-4:] == tls_lines
    assert "user mosquitto" in conf.splitlines()


def test_tls_without_a_ca_file_and_a_plain_service_listener() -> None:
    tls = Tls(8883, Path("/c/s.pem"), Path("/c/s.key"))
    plain, secure, service = listeners(render_conf(Layout(ACCOUNTS, DATA, port=1, tls=tls)))
    assert secure[-3:] == ["certfile /c/s.pem", "keyfile /c/s.key", "tls_version tlsv1.2"]
    assert not any(line.startswith(("certfile", "cafile")) for line in plain + service)


def test_the_packet_limit_is_headroom_times_the_services_payload_limit() -> None:
    conf = render_conf(Layout(ACCOUNTS, DATA, port=1883, max_payload_bytes=1000))
    expected = 1000 * PAYLOAD_HEADROOM + PACKET_OVERHEAD
    assert f"max_packet_size {expected}" in conf.splitlines()
    assert "(1,000 bytes)" in conf
    assert "max_queued_messages 1000000" in conf.splitlines()
