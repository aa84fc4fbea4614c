"""One SQLite file on one thread of its own, reached from the event loop without blocking it.

Every SQLite-backed store (readings, spool, dead letters, alerts, webhooks, users, road notes) holds
one :class:`SqliteFile`: the connection is made on the file's thread and never leaves it, and a store
method is ``await self._sql.run(fn, *args)`` with ``fn(db, *args)`` run there.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class SqliteClosedError(RuntimeError):
    """A call on a SqliteFile after its close()."""


class SqliteFile:
    """One SQLite connection, its thread, ``run(fn)``, ``open()`` and ``close()``.

    ``setup(db)`` (the schema) runs on the thread right after connecting. A ``run`` before ``open``
    opens first; a failed open closes what it had, so the next call tries again; a call after
    ``close`` raises :class:`SqliteClosedError`. A ``durable`` file has a commit on disk when the
    commit returns (WAL, synchronous=FULL): for what is acknowledged to someone once committed (the
    spool, readings, dead letters, alerts, webhook deliveries). ``autocommit`` leaves transactions
    to the caller (``BEGIN`` ... ``COMMIT``); ``busy_timeout_ms`` waits that long for a lock that
    another connection holds.
    """

    def __init__(
        self,
        path: Path,
        name: str,
        *,
        setup: Callable[[sqlite3.Connection], object] | None = None,
        durable: bool = True,
        autocommit: bool = False,
        busy_timeout_ms: int = 0,
    ) -> None:
        self.path = path
        self._setup = setup
        self._durable = durable
        self._autocommit = autocommit
        self._busy_timeout_ms = busy_timeout_ms
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._db: sqlite3.Connection | None = None  # touched on the thread only
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed

    async def open(self) -> None:
        """Connect and run the setup (a no-op when already open)."""
        await self.run(lambda db: None)

    async def run(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``fn(db, *args, **kwargs)`` on the file's thread; its result or its exception."""
        if self._closed:
            msg = f"sqlite {self.path}: closed"
            raise SqliteClosedError(msg)
        call = partial(self._call, partial(fn, **kwargs), *args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def _call(self, fn: Callable[..., T], *args: object) -> T:
        if self._db is None:
            self._db = self._connect()
        return fn(self._db, *args)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False)
        if self._autocommit:
            db.isolation_level = None
        try:
            if self._durable:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
            if self._busy_timeout_ms:
                db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            if self._setup is not None:
                self._setup(db)
                if db.in_transaction:
                    db.commit()
        except BaseException:
            db.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connection and end the thread; later calls raise SqliteClosedError."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._pool, self._shut)
        self._pool.shutdown(wait=True)

    def _shut(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
