"""`marine-watch mqtt-accounts`: broker accounts from config/, written as a runnable Mosquitto set-up.

One account per station (config/stations.toml), per forecast office and per reader
(config/mqtt_accounts.toml), and one for the service. ``DIR/accounts.json`` holds the passwords
(``{"service": {"username", "password", "client_id"}, "stations": {id: {"username", "password"}},
"forecasters": {name: {…}}, "readers": {name: {…}}}``); running the command again keeps every
existing password unless ``--rotate``. Every file is written 0600, atomically.
"""

import argparse
import json
import os
import pwd
import re
import secrets
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from marine_watch.errors import ConfigError
from marine_watch.mqtt.broker_config import (
    Grants,
    Layout,
    Tls,
    render_acl,
    render_conf,
    render_passwd,
)
from marine_watch.mqtt.client import Account
from marine_watch.mqtt.nats_accounts import FILE as NATS_USERS
from marine_watch.mqtt.nats_accounts import render_nats_users

ACCOUNTS_TOML = "mqtt_accounts.toml"
ACCOUNTS_JSON = "accounts.json"
#: the file holding the service's password alone (MARINE_WATCH_MQTT_PASSWORD_FILE)
SERVICE_PASSWORD = "service.password"  # noqa: S105 - a file name, not a password
PREFIXES = {"stations": "station-", "forecasters": "forecaster-", "readers": "reader-"}
_NAME = r"^[a-z0-9][a-z0-9_\-]{0,62}$"


class ForecasterIn(BaseModel):
    """A forecaster account to create: the source name shown to the public."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = Field(min_length=1, max_length=200, description="name shown to the public")


class ReaderIn(BaseModel):
    """A reader account to create (read-only risk topics), with a note on who uses it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    about: str = Field(default="", max_length=200)


class AccountsIn(BaseModel):
    """config/mqtt_accounts.toml: the accounts that are not stations or the service."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    forecasters: dict[Annotated[str, Field(pattern=_NAME)], ForecasterIn] = {}
    readers: dict[Annotated[str, Field(pattern=_NAME)], ReaderIn] = {}


@dataclass(frozen=True, slots=True)
class Accounts:
    """Every broker account, with passwords."""

    service: Account
    client_id: str
    stations: dict[str, Account] = field(default_factory=dict)
    forecasters: dict[str, Account] = field(default_factory=dict)
    readers: dict[str, Account] = field(default_factory=dict)

    def field_accounts(self) -> list[Account]:
        """The accounts of the field listeners (everyone but the service)."""
        return [*self.stations.values(), *self.forecasters.values(), *self.readers.values()]

    def to_json(self) -> dict[str, object]:
        """The accounts as accounts.json holds them, passwords included."""

        def group(accounts: dict[str, Account]) -> dict[str, dict[str, str]]:
            return {
                k: {"username": a.username, "password": a.password} for k, a in accounts.items()
            }

        return {
            "service": {
                "username": self.service.username,
                "password": self.service.password,
                "client_id": self.client_id,
            },
            "stations": group(self.stations),
            "forecasters": group(self.forecasters),
            "readers": group(self.readers),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "Accounts":
        """The accounts read back from accounts.json."""

        def group(name: str) -> dict[str, Account]:
            return {k: Account(v["username"], v["password"]) for k, v in doc[name].items()}

        service = doc["service"]
        return cls(
            Account(service["username"], service["password"]),
            service["client_id"],
            group("stations"),
            group("forecasters"),
            group("readers"),
        )


def load_accounts(path: Path) -> Accounts:
    """Read an accounts.json; a ConfigError names the file when it is missing or malformed."""
    try:
        return Accounts.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(path, "-", "file not found (run `marine-watch mqtt-accounts`)") from None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(path, "-", f"not an accounts file: {exc!r}") from None


def read_accounts_config(config_dir: Path) -> AccountsIn:
    """config/mqtt_accounts.toml (absent: no forecasters or readers)."""
    path = config_dir / ACCOUNTS_TOML
    if not path.exists():
        return AccountsIn()
    try:
        return AccountsIn.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "-", f"not valid TOML: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(path, ".".join(str(p) for p in err["loc"]), err["msg"]) from None


def plan(
    stations: list[str],
    wanted: AccountsIn,
    service: tuple[str, str],
    previous: Accounts | None,
    *,
    rotate: bool = False,
) -> Accounts:
    """The accounts config/ asks for; passwords kept from ``previous`` unless ``rotate``."""
    username, client_id = service
    if any(client_id.startswith(p) for p in PREFIXES.values()):
        msg = f"must not start with {sorted(PREFIXES.values())}: field accounts use those ids"
        where = "settings"
        raise ConfigError(where, "mqtt_client_id", msg)
    known = {} if previous is None or rotate else _passwords(previous)

    def account(user: str) -> Account:
        return Account(user, known.get(user) or secrets.token_urlsafe(24))

    return Accounts(
        account(username),
        client_id,
        {s: account(PREFIXES["stations"] + s) for s in stations},
        {n: account(PREFIXES["forecasters"] + n) for n in wanted.forecasters},
        {n: account(PREFIXES["readers"] + n) for n in wanted.readers},
    )


def _passwords(accounts: Accounts) -> dict[str, str]:
    return {a.username: a.password for a in [accounts.service, *accounts.field_accounts()]}


def write_private(path: Path, text: str, owner: tuple[int, int] | None = None) -> None:
    """Write ``text`` to ``path`` with mode 0600 (and ``owner``), replacing it atomically."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if owner is not None:
            os.chown(tmp, *owner)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_setup(
    accounts: Accounts,
    layout: Layout,
    root: str,
    *,
    broker_owner: tuple[int, int] | None = None,
    service_owner: tuple[int, int] | None = None,
    nats: bool = False,
) -> list[Path]:
    """Write mosquitto.conf, passwd, service.passwd, acl, accounts.json and service.password; with
    ``nats`` also nats-users.conf (the same accounts for a NATS cluster, marine_watch/mqtt/nats_accounts.py)."""
    out = layout.accounts_dir
    out.mkdir(parents=True, exist_ok=True)
    # Others may pass through to the file they own (broker, service), never list the folder.
    out.chmod(0o711 if broker_owner or service_owner else 0o700)
    grants = Grants(
        accounts.service.username,
        {s: a.username for s, a in accounts.stations.items()},
        [a.username for a in accounts.forecasters.values()],
        [a.username for a in accounts.readers.values()],
    )
    field_pairs = [(a.username, a.password) for a in accounts.field_accounts()]
    files = {
        "mosquitto.conf": (render_conf(layout), broker_owner),
        "passwd": (render_passwd(field_pairs), broker_owner),
        "service.passwd": (
            render_passwd([(accounts.service.username, accounts.service.password)]),
            broker_owner,
        ),
        "acl": (render_acl(grants, root), broker_owner),
        ACCOUNTS_JSON: (json.dumps(accounts.to_json(), indent=2) + "\n", None),
        SERVICE_PASSWORD: (accounts.service.password + "\n", service_owner),
    }
    if nats:
        users = render_nats_users(
            accounts.service,
            accounts.stations,
            list(accounts.forecasters.values()),
            list(accounts.readers.values()),
            root,
        )
        files[NATS_USERS] = (users, broker_owner)
    for name, (text, owner) in files.items():
        write_private(out / name, text, owner)
    if layout.persistence_dir.is_relative_to(out) and not layout.persistence_dir.exists():
        layout.persistence_dir.mkdir(parents=True, mode=0o700)
        if broker_owner is not None:
            os.chown(layout.persistence_dir, *broker_owner)
    return [out / name for name in files]


def owner_of(user: str) -> tuple[int, int]:
    """(uid, gid) of a user name or a numeric ``uid[:gid]``."""
    if re.fullmatch(r"\d+(:\d+)?", user):
        uid, _, gid = user.partition(":")
        return int(uid), int(gid or uid)
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        where = "--broker-user/--service-user"
        raise ConfigError(where, user, "no such user") from None
    return entry.pw_uid, entry.pw_gid


def add_accounts_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `marine-watch mqtt-accounts`."""
    cmd = sub.add_parser(
        "mqtt-accounts",
        help="generate broker accounts, ACL and a runnable Mosquitto config from config/",
        description="Write DIR/mosquitto.conf (run: mosquitto -c DIR/mosquitto.conf), DIR/passwd, "
        "DIR/service.passwd, DIR/acl, DIR/accounts.json and DIR/service.password, all 0600. "
        "Existing passwords are kept unless --rotate. See docs/SECURITY.md.",
    )
    cmd.add_argument("--out", type=Path, required=True, metavar="DIR")
    cmd.add_argument("--port", type=int, required=True, help="field listener (stations, readers)")
    cmd.add_argument("--bind", default=None, help="field listeners' address (default: all)")
    cmd.add_argument("--service-port", type=int, help="service listener (default: PORT+1)")
    cmd.add_argument("--service-bind", default="127.0.0.1", help="default 127.0.0.1")
    cmd.add_argument("--tls-port", type=int, help="TLS field listener (needs --cert and --key)")
    cmd.add_argument("--cert", type=Path, help="server certificate (PEM)")
    cmd.add_argument("--key", type=Path, help="server private key (PEM)")
    cmd.add_argument("--cafile", type=Path, help="CA chain of the server certificate (PEM)")
    cmd.add_argument("--service-tls", action="store_true", help="TLS on the service listener too")
    cmd.add_argument("--persistence-dir", type=Path, help="broker database (default DIR/data)")
    cmd.add_argument(
        "--nats",
        action="store_true",
        help="also DIR/nats-users.conf: the accounts for a NATS broker cluster (bcrypt, permissions)",
    )
    cmd.add_argument(
        "--broker-user",
        help="user the broker runs as: owns its files; a name also goes in the config as `user`",
    )
    cmd.add_argument("--service-user", help="user (or uid) that owns DIR/service.password")
    cmd.add_argument("--rotate", action="store_true", help="new passwords for every account")
    cmd.set_defaults(func=_run)


def layout_of(args: argparse.Namespace, max_payload_bytes: int) -> Layout:
    """The broker layout the command line asks for."""
    tls = None
    if args.tls_port is not None or args.service_tls:
        if args.cert is None or args.key is None or args.tls_port is None:
            where = "mqtt-accounts"
            raise ConfigError(where, "--tls-port", "TLS needs --tls-port, --cert and --key")
        tls = Tls(
            args.tls_port,
            args.cert.resolve(),
            args.key.resolve(),
            args.cafile and args.cafile.resolve(),
        )
    out = args.out.resolve()
    user = args.broker_user
    return Layout(
        accounts_dir=out,
        persistence_dir=args.persistence_dir.resolve() if args.persistence_dir else out / "data",
        port=args.port,
        bind=args.bind,
        service_port=args.service_port or args.port + 1,
        service_bind=args.service_bind or None,
        tls=tls,
        service_tls=args.service_tls,
        broker_user=user if user and not user[0].isdigit() else None,
        max_payload_bytes=max_payload_bytes,
    )


def _run(args: argparse.Namespace) -> int:
    # imported when the command runs: the coast brings scipy and shapely, too slow for CLI start-up
    from marine_watch.coast import load_catalogue  # noqa: PLC0415
    from marine_watch.settings import load_settings  # noqa: PLC0415

    settings = load_settings()
    layout = layout_of(args, settings.max_payload_bytes)
    stations = [s.id for s in load_catalogue(settings.config_dir).stations]
    previous_path = layout.accounts_dir / ACCOUNTS_JSON
    previous = load_accounts(previous_path) if previous_path.exists() else None
    service = (settings.mqtt_username or "marine-watch", settings.mqtt_client_id)
    accounts = plan(
        stations, read_accounts_config(settings.config_dir), service, previous, rotate=args.rotate
    )
    written = write_setup(
        accounts,
        layout,
        settings.mqtt_topic_root,
        broker_owner=owner_of(args.broker_user) if args.broker_user else None,
        service_owner=owner_of(args.service_user) if args.service_user else None,
        nats=args.nats,
    )
    kept = "new passwords" if previous is None or args.rotate else "passwords kept"
    scheme = "mqtts" if layout.service_tls else "mqtt"
    sys.stdout.write(
        f"wrote {len(written)} files to {layout.accounts_dir} ({kept}): "
        f"{len(accounts.stations)} stations, {len(accounts.forecasters)} forecasters, "
        f"{len(accounts.readers)} readers, 1 service\n"
        f"  broker:  mosquitto -c {layout.accounts_dir / 'mosquitto.conf'}\n"
        f"  service: MARINE_WATCH_MQTT_URL={scheme}://{layout.service_bind or '<host>'}:{layout.service_port}"
        f" MARINE_WATCH_MQTT_USERNAME={accounts.service.username}"
        f" MARINE_WATCH_MQTT_PASSWORD_FILE={layout.accounts_dir / SERVICE_PASSWORD}\n"
    )
    return 0
