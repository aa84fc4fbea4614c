"""How to run the service: one Settings object from config/marine_watch.toml and MARINE_WATCH_* env.

Environment variables win over the TOML file; a bad value stops start-up with a ConfigError that
names the file (or variable), the key and the problem.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from marine_watch.errors import ConfigError

ENV_PREFIX = "MARINE_WATCH_"
SETTINGS_FILE = "marine_watch.toml"
PositiveFloat = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]
SHA256_HEX_CHARS = 64  # an api_keys entry's digest: SHA-256 in hex
MAX_BROKERS = 8  # broker URLs one client fails over between (mqtt_url, comma-separated)
ROLES = frozenset({"duty_officer", "emergency_team", "admin", "forecaster"})
# Well-known keys accepted only when environment = "demo" (refused in api_keys, like "changethis").
DEMO_KEYS = {
    "duty_officer": "demo-duty-officer",
    "emergency_team": "demo-emergency-team",
    "admin": "demo-admin",
    "forecaster": "demo-forecaster",
}
DEMO_KEY_HASHES = frozenset(hashlib.sha256(k.encode()).hexdigest() for k in DEMO_KEYS.values())


class Settings(BaseSettings):
    """Settings say how to run; the coast itself is in the catalogue files."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    config_dir: Path = Path("config")
    data_dir: Path = Path("data")

    # all: ingest, store and colours in one process. ingest: store readings only (scale out on a
    # shared subscription). risk: colours, API and alerts from every reading, storing none. api:
    # public answers rebuilt from the retained risk topics, storing and evaluating nothing.
    node_role: Literal["all", "ingest", "risk", "api"] = "all"

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_client_id: str = "marine-watch-ingest"
    mqtt_topic_root: str = "marine/v1"
    mqtt_shared_group: str | None = None
    mqtt_protocol: Literal["5", "3.1.1"] = "5"
    # Partitioned ingest without $share: "k/n" (hash of station ids) or a part of
    # config/ingest_partitions.toml; the node subscribes to its stations only (marine_watch/ingest/partition.py)
    ingest_partition: str | None = None
    # The service's broker account (`marine-watch mqtt-accounts` makes it; docs/SECURITY.md). The
    # password comes from the setting or from a file (read at each connect: rotation needs no restart).
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_password_file: Path | None = None
    mqtt_ca_file: Path | None = None  # CA bundle that signs the broker's certificate (mqtts://)

    store: Literal["influxdb", "sqlite"] = "sqlite"
    influx_url: str = "http://127.0.0.1:8086"
    influx_db: str = "marine_watch"
    # InfluxDB auth goes in the Authorization header (Token for 2.x/3.x, Basic for 1.x), never in
    # the URL: secrets are SecretStr, never in a repr or a log line.
    influx_token: SecretStr | None = None
    influx_username: str | None = None
    influx_password: SecretStr | None = None

    http_host: str = "127.0.0.1"
    http_port: Annotated[int, Field(ge=0, le=65535)] = 8000
    http_max_body_bytes: PositiveInt = 256 * 1024  # a bigger request body is answered 413, unread
    # Connections the kernel queues for accept() (listen backlog): a storm of thousands of websocket
    # clients overflows a short queue, and each dropped SYN is retried only after 1 s, 3 s, 7 s...
    # The kernel caps it at net.core.somaxconn (4096 on the machine measured in BENCHMARKS.md).
    http_backlog: PositiveInt = 16_384
    # Addresses (comma-separated IPs or networks) whose X-Forwarded-For/-Proto are believed: the
    # load balancer's. Empty (the default): none, every client is the address it connects from.
    forwarded_allow_ips: str = ""

    ingest_queue_size: PositiveInt = 10_000
    batch_max_readings: PositiveInt = 5_000
    batch_max_wait_s: PositiveFloat = 0.2
    risk_tick_s: PositiveFloat = 5.0
    ws_client_queue: PositiveInt = 256
    ws_stall_s: PositiveFloat = 10.0
    ws_max_per_client: PositiveInt = (
        20  # open websockets per client address; more are closed (1013)
    )
    # uvicorn's INFO lines for each websocket ("accepted", "connection open", "connection closed"):
    # off by default, they cost a connect storm as much as the handshake (refusals, errors are kept).
    log_ws_connections: bool = False
    max_payload_bytes: PositiveInt = 256 * 1024
    future_tolerance_s: PositiveFloat = 300.0
    # Dead letters kept (marine_watch/ingest/dead_letters.py): the newest N, none older than the age.
    dead_letter_max_rows: PositiveInt = 50_000
    dead_letter_max_age_s: PositiveFloat = 30 * 86_400.0

    # Roles and auth (marine_watch/auth/keys.py). "demo" also accepts the well-known demo keys.
    environment: Literal["production", "demo"] = "production"
    api_keys: tuple[str, ...] = ()  # "name:role:sha256-of-key" (hashed, never the key itself)
    rate_limit_per_s: PositiveFloat = 20.0  # public endpoints, per client IP (token bucket)
    rate_limit_burst: PositiveInt = 40

    # Alerts, CAP and webhooks (marine_watch/alerts/book.py, cap.py, webhooks.py)
    cap_sender: str = "marine-watch@pinghu.sample.invalid"
    public_url: str = "http://127.0.0.1:8000"
    webhook_timeout_s: PositiveFloat = 5.0
    webhook_max_attempts: PositiveInt = 12
    webhook_backoff_s: PositiveFloat = 1.0
    webhook_backoff_max_s: PositiveFloat = 300.0
    webhook_queue: PositiveInt = 1_000
    # Webhook receivers may only be public addresses; these networks are the explicit exceptions
    # (e.g. ["127.0.0.0/8"] for a receiver on this machine). marine_watch/alerts/netguard.py.
    webhook_allow_networks: tuple[str, ...] = ()

    # Teams, their preferences and the escalation of unacknowledged alerts (docs/ALERTS.md); unset:
    # config_dir/teams.toml (no file: no teams, no e-mail, no escalation)
    teams_file: Path | None = None
    escalation_check_s: PositiveFloat = 5.0  # how often open alerts are checked (wall seconds)
    # E-mail channel: an SMTP submission server, always with STARTTLS and a verified certificate.
    # Unset smtp_host: no e-mail is sent (they wait in the outbox). The password is never logged.
    smtp_host: str | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: Path | None = None  # CA bundle that signed the SMTP server's certificate
    smtp_from: str = "marine-watch@pinghu.sample.invalid"
    smtp_timeout_s: PositiveFloat = 10.0
    smtp_max_attempts: PositiveInt = 12

    # Retained MQTT risk topics {mqtt_topic_root}/risk/{zone} for more API nodes (ingest skips them)
    risk_topics: bool = True
    forecast_max_age_s: PositiveFloat = 12 * 3600.0
    # An API node shows colours older than this (no evaluation heard from their risk node) as "no
    # data" instead of as current; every answer carries the age of its colours.
    colours_max_age_s: PositiveFloat = 60.0
    # Regions a risk node evaluates (stations, zones and dikes carry one; empty: all of them). API
    # nodes serve every region they hear on the broker.
    regions: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("mqtt_shared_group")
    @classmethod
    def _risk_sees_everything(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and info.data.get("node_role") == "risk":
            msg = "a risk node must receive every reading: leave it unset (ingest nodes share the load)"
            raise ValueError(msg)
        return value

    @field_validator("regions", mode="before")
    @classmethod
    def _region_list(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):  # MARINE_WATCH_REGIONS=pinghu,haiyan
            value = tuple(r.strip() for r in value.split(",") if r.strip())
        if value and info.data.get("node_role") != "risk":
            msg = "only a risk node evaluates a part of the coast (MARINE_WATCH_NODE_ROLE=risk)"
            raise ValueError(msg)
        return value

    @field_validator("ingest_partition")
    @classmethod
    def _one_way_to_split(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.strip():
            msg = "k/n or the name of a part of config/ingest_partitions.toml"
            raise ValueError(msg)
        if info.data.get("node_role") == "risk":
            msg = "a risk node must receive every reading: leave it unset (ingest nodes split the load)"
            raise ValueError(msg)
        if info.data.get("mqtt_shared_group"):
            msg = "use a shared group or a partition, not both"
            raise ValueError(msg)
        return value.strip()

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str) -> str:
        urls = split_mqtt_urls(value)
        if not urls or len(urls) > MAX_BROKERS:
            msg = f"one to {MAX_BROKERS} broker URLs, separated by commas"
            raise ValueError(msg)
        for url in urls:
            if not url.startswith(("mqtt://", "mqtts://")):
                msg = "must look like mqtt://host:port or mqtts://host:port (several: comma-separated)"
                raise ValueError(msg)
            if "@" in url:
                msg = "no account in the URL: use mqtt_username and mqtt_password(_file)"
                raise ValueError(msg)
            try:
                split_mqtt_url(url)
            except ValueError:
                msg = f"{url!r}: the port must be a number"
                raise ValueError(msg) from None
        if len({url.split("://", 1)[0] for url in urls}) > 1:
            msg = "every broker URL must use the same scheme: all mqtt:// or all mqtts://"
            raise ValueError(msg)
        if len(set(urls)) != len(urls):
            msg = "a broker URL is listed twice"
            raise ValueError(msg)
        return value

    @field_validator("mqtt_password_file", "mqtt_ca_file", "smtp_ca_file", "teams_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not os.access(value, os.R_OK):
            msg = f"cannot read {value}"
            raise ValueError(msg)
        return value

    @field_validator("mqtt_password_file")
    @classmethod
    def _one_password(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and info.data.get("mqtt_password") is not None:
            msg = "set mqtt_password or mqtt_password_file, not both"
            raise ValueError(msg)
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        entries = [e.strip() for e in value.split(",") if e.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                msg = f"{entry!r} is not an address or network (e.g. 10.0.0.2 or 10.0.0.0/29)"
                raise ValueError(msg) from None
        return ",".join(entries)

    @field_validator("webhook_allow_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                msg = f"{entry!r} is not a network (e.g. 127.0.0.0/8 or 10.1.2.3/32)"
                raise ValueError(msg) from None
        return value

    @field_validator("api_keys")
    @classmethod
    def _hashed_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            name, role, digest = [*entry.split(":"), "", "", ""][:3]
            if not name or role not in ROLES or len(digest) != SHA256_HEX_CHARS:
                msg = f"each key must be 'name:role:sha256hex' with role in {sorted(ROLES)}"
                raise ValueError(msg)
            if digest in DEMO_KEY_HASHES:
                msg = f"{name}: a published demo key; generate a secret one (python -m marine_watch.auth)"
                raise ValueError(msg)
        return value

    @field_validator("influx_url")
    @classmethod
    def _http_scheme(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            msg = "must look like http://host:port"
            raise ValueError(msg)
        if "@" in value or "?" in value:
            msg = "no account or query in the URL: use influx_username/influx_password or influx_token"
            raise ValueError(msg)
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init kwargs, then env, then the TOML file (lowest)."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_settings_file())
        return (init_settings, env_settings, toml)

    @property
    def mqtt_urls(self) -> tuple[str, ...]:
        """The brokers of ``mqtt_url`` in order: one, or the members of a cluster to fail over between."""
        return split_mqtt_urls(self.mqtt_url)

    @property
    def mqtt_tls(self) -> bool:
        """True for mqtts:// brokers: TLS with the certificate and host name verified."""
        return self.mqtt_url.strip().startswith("mqtts://")

    def secrets(self) -> list[str]:
        """Every secret value the settings hold (for log redaction): passwords and tokens."""
        values = [s.get_secret_value() for s in (self.influx_token, self.influx_password) if s]
        with contextlib.suppress(OSError):  # a password file that went away: nothing to mask
            values.append(self.mqtt_secret() or "")
        return [v for v in values if v]

    def mqtt_secret(self) -> str | None:
        """The service's broker password, from the setting or (read now) from the password file."""
        if self.mqtt_password_file is not None:
            return self.mqtt_password_file.read_text(encoding="utf-8").strip()
        return None if self.mqtt_password is None else self.mqtt_password.get_secret_value()

    @property
    def mqtt_host(self) -> str:
        """Host of the first broker of mqtt_url."""
        return self._mqtt_parts()[0]

    @property
    def mqtt_port(self) -> int:
        """Port of the first broker of mqtt_url."""
        return self._mqtt_parts()[1]

    def _mqtt_parts(self) -> tuple[str, int]:
        host, port, _ = split_mqtt_url(self.mqtt_urls[0])
        return host, port


def split_mqtt_urls(value: str) -> tuple[str, ...]:
    """The URLs of a comma-separated ``mqtt_url`` (blanks around commas ignored)."""
    return tuple(url.strip() for url in value.split(",") if url.strip())


def split_mqtt_url(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of ``mqtt://host[:1883]`` or ``mqtts://host[:8883]``."""
    tls = url.startswith("mqtts://")
    rest = url.split("://", 1)[1].rstrip("/")
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "8883" if tls else "1883")
    return host, int(port), tls


def _settings_file() -> Path:
    return Path(os.environ.get(f"{ENV_PREFIX}CONFIG_DIR", "config")) / SETTINGS_FILE


def load_settings(**overrides: object) -> Settings:
    """Build Settings; turn any problem into a ConfigError naming file or variable, key and problem."""
    path = _settings_file()
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        env = f"{ENV_PREFIX}{key.upper()}"
        where = f"env {env}" if env in os.environ else str(path)
        raise ConfigError(where, key, err["msg"]) from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML
        raise ConfigError(path, "-", str(exc)) from None
