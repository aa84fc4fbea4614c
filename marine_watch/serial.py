"""One dedicated thread for a blocking resource (sqlite3), reached from the loop without blocking it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class SerialExecutor:
    """Runs calls one at a time on its own thread, so a sqlite3 connection never changes thread."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def connect_durable(path: Path) -> sqlite3.Connection:
    """A SQLite file whose commits are on disk when they return (WAL, synchronous=FULL).

    For the spool, dead letters, alerts and webhook deliveries: what they hold is acknowledged to
    someone (the broker, a sender) once committed. Use it from one SerialExecutor thread only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db
