"""Roles and API keys.

Roles: the public (no key: resident lookup, zone colours, CAP feed), ``duty_officer`` (feeds, dead
letters, road notes, acknowledge), ``emergency_team`` (alerts, acknowledge, webhooks), ``forecaster``
(forecast input) and ``admin`` (everything, plus users and config reload).

Keys are random tokens; only their SHA-256 is kept (settings ``api_keys``, ``config/roles.toml`` or
the users table that admins fill at run time). A key arrives as ``Authorization: Bearer <key>`` or
``X-API-Key: <key>``; on websockets, where browsers cannot set headers, also as the first message
``{"type": "auth", "key": "<key>"}``. A key is never accepted in a URL.
``python -m marine_watch.auth NAME ROLE`` prints a new key and the line to configure it.
"""

import hashlib
import hmac
import secrets
import sqlite3
import sys
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from marine_watch.errors import ConfigError
from marine_watch.settings import DEMO_KEY_HASHES, DEMO_KEYS, Settings
from marine_watch.store.sqlite_file import SqliteFile

ROLES_FILE = "roles.toml"


class Role(StrEnum):
    """What a caller may do."""

    DUTY_OFFICER = "duty_officer"
    EMERGENCY_TEAM = "emergency_team"
    FORECASTER = "forecaster"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling."""

    name: str
    role: Role


def hash_key(key: str) -> str:
    """SHA-256 hex of a key: what is stored and compared."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random key (256 bits, URL-safe)."""
    return "mw_" + secrets.token_urlsafe(32)


class _User(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[A-Za-z0-9_.@\-]{1,64}$")
    role: Role
    key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class _RolesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    users: tuple[_User, ...] = ()


def load_roles_file(config_dir: Path, *, demo: bool = False) -> dict[str, Principal]:
    """Hashed keys from config/roles.toml (absent file: none); ConfigError on a bad entry.

    A published demo key is refused there too, outside the demo.
    """
    path = config_dir / ROLES_FILE
    if not path.exists():
        return {}
    try:
        parsed = _RolesFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (ValidationError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, "users", str(exc).splitlines()[0]) from None
    for user in parsed.users:
        if not demo and user.key_sha256 in DEMO_KEY_HASHES:
            problem = f"{user.name}: a published demo key; generate a secret one (python -m marine_watch.auth)"
            raise ConfigError(path, "users", problem)
    return {u.key_sha256: Principal(u.name, u.role) for u in parsed.users}


class KeyRing:
    """Every known key hash and its principal; admin-made users persist in SQLite."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._static: dict[str, Principal] = {}
        self._dynamic: dict[str, Principal] = {}
        self._sql: SqliteFile | None = None  # admin-made users, once open()
        self.reload()

    def reload(self) -> int:
        """Re-read settings keys, demo keys and config/roles.toml; return how many are known."""
        demo = self._settings.environment == "demo"
        static = load_roles_file(self._settings.config_dir, demo=demo)
        for entry in self._settings.api_keys:
            name, role, digest = entry.split(":")
            static[digest] = Principal(name, Role(role))
        if demo:
            static.update(
                {hash_key(k): Principal(f"demo-{r}", Role(r)) for r, k in DEMO_KEYS.items()}
            )
        self._static = static
        return len(self._static) + len(self._dynamic)

    def lookup(self, key: str) -> Principal | None:
        """The principal of ``key``, comparing hashes in constant time; None for an unknown key."""
        digest = hash_key(key)
        for table in (self._static, self._dynamic):
            for known, principal in table.items():
                if hmac.compare_digest(known, digest):
                    return principal
        return None

    async def open(self, path: Path) -> None:
        """Open the users database at ``path`` and load the users' keys."""
        self._sql = SqliteFile(path, "users", durable=False)
        await self._sql.run(self._open)

    def _file(self) -> SqliteFile:
        if self._sql is None:
            msg = "the user table is not open: call KeyRing.open(path) first"
            raise RuntimeError(msg)
        return self._sql

    def _open(self, db: sqlite3.Connection) -> None:
        db.execute(
            "CREATE TABLE IF NOT EXISTS user (name TEXT PRIMARY KEY, role TEXT, key_sha256 TEXT)"
        )
        db.commit()
        rows = db.execute("SELECT name, role, key_sha256 FROM user").fetchall()
        self._dynamic = {d: Principal(n, Role(r)) for n, r, d in rows}

    async def add_user(self, name: str, role: Role) -> str:
        """Create (or replace) a user; return the new key, which is shown once and never stored."""
        key = new_key()
        await self._file().run(self._add, name, role, hash_key(key))
        return key

    def _add(self, db: sqlite3.Connection, name: str, role: Role, digest: str) -> None:
        db.execute("INSERT OR REPLACE INTO user VALUES (?,?,?)", (name, role.value, digest))
        db.commit()
        self._dynamic = {d: p for d, p in self._dynamic.items() if p.name != name}
        self._dynamic[digest] = Principal(name, role)

    async def remove_user(self, name: str) -> bool:
        """Remove a user, and with it its key; False when there is no such user."""
        return await self._file().run(self._remove, name)

    def _remove(self, db: sqlite3.Connection, name: str) -> bool:
        gone = db.execute("DELETE FROM user WHERE name = ?", (name,)).rowcount > 0
        db.commit()
        self._dynamic = {d: p for d, p in self._dynamic.items() if p.name != name}
        return gone

    def users(self) -> list[dict[str, str]]:
        """Names and roles (never hashes), static ones marked as such."""
        static = [
            {"name": p.name, "role": p.role.value, "source": "config"}
            for p in self._static.values()
        ]
        dynamic = [
            {"name": p.name, "role": p.role.value, "source": "admin"}
            for p in self._dynamic.values()
        ]
        return sorted(static + dynamic, key=lambda u: u["name"])

    async def close(self) -> None:
        """Close the users database, if open."""
        if self._sql is not None:
            await self._sql.close()


def main(argv: list[str]) -> int:
    """Print a new key for NAME with ROLE, and the api_keys entry that configures its hash."""
    if len(argv) != 2 or argv[1] not in {r.value for r in Role}:
        sys.stderr.write(
            f"usage: python -m marine_watch.auth NAME {{{','.join(r.value for r in Role)}}}\n"
        )
        return 2
    key = new_key()
    sys.stdout.write(f"key (give it to {argv[0]}; it is not stored): {key}\n")
    sys.stdout.write(f'api_keys entry: "{argv[0]}:{argv[1]}:{hash_key(key)}"\n')
    return 0
