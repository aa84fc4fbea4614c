"""Open the configured store for the lifetime of the service (or of a test)."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

import structlog
from pydantic import SecretStr

from marine_watch.errors import ConfigError, StoreUnavailable
from marine_watch.store import Store
from marine_watch.store.influx import InfluxStore
from marine_watch.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from marine_watch.settings import Settings

SOURCE: Final = "settings"  # ConfigError's "file": the MARINE_WATCH_* settings that chose the store
log = structlog.get_logger(__name__)


def _secret(value: "SecretStr | None") -> str | None:
    return None if value is None else value.get_secret_value()


def open_configured_store(settings: "Settings") -> "AbstractAsyncContextManager[Store]":
    """The store the settings name, with every store setting passed on (the one way to open it)."""
    return open_store(
        "sqlite" if settings.node_role == "api" else settings.store,  # an API node writes nothing
        influx_url=settings.influx_url,
        influx_db=settings.influx_db,
        influx_token=_secret(settings.influx_token),
        influx_username=settings.influx_username,
        influx_password=_secret(settings.influx_password),
        sqlite_path=settings.data_dir / "readings.sqlite3",
    )


@asynccontextmanager
async def open_store(
    kind: str,
    *,
    influx_url: str | None = None,
    influx_db: str = "marine_watch",
    influx_token: str | None = None,
    influx_username: str | None = None,
    influx_password: str | None = None,
    sqlite_path: Path | str | None = None,
) -> AsyncIterator[Store]:
    """Yield an open store of ``kind`` ("influxdb" or "sqlite") and close it on exit.

    InfluxDB 2.x/3.x take ``influx_token``, 1.x with auth ``influx_username`` and
    ``influx_password``. The InfluxDB database is created if missing. When InfluxDB is down at start-up the store opens
    anyway: writes raise StoreUnavailable and the writer spools until it is back.
    """
    store: InfluxStore | SqliteStore
    if kind == "influxdb":
        if not influx_url:
            problem = "required when store is influxdb"
            raise ConfigError(SOURCE, "influx_url", problem)
        store = InfluxStore(
            influx_url,
            influx_db,
            token=influx_token,
            username=influx_username,
            password=influx_password,
        )
        try:
            await store.create_database()
        except StoreUnavailable as exc:
            log.warning("store_unreachable_at_start", store=store.name, error=str(exc))
        except BaseException:
            await store.close()
            raise
    elif kind == "sqlite":
        if sqlite_path is None:
            problem = "required when store is sqlite"
            raise ConfigError(SOURCE, "sqlite_path", problem)
        store = SqliteStore(sqlite_path)
        try:
            await store.open()
        except BaseException:
            await store.close()
            raise
    else:
        problem = f"unknown store {kind!r}: influxdb or sqlite"
        raise ConfigError(SOURCE, "store", problem)
    try:
        yield store
    finally:
        await store.close()
