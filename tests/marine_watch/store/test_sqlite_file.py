"""SqliteFile: the one SQLite base of every store (a connection on a thread of its own)."""

import sqlite3
import threading
from pathlib import Path

import pytest

from marine_watch.store.sqlite_file import SqliteClosedError, SqliteFile


def _thread(db: sqlite3.Connection) -> int:
    return threading.get_ident()


async def test_every_call_runs_on_one_thread_that_is_not_the_loops(tmp_path: Path) -> None:
    """The connection never changes thread, and the event loop's thread never blocks on it."""
    sql = SqliteFile(tmp_path / "a.sqlite3", "t")
    threads = {await sql.run(_thread) for _ in range(5)}
    assert len(threads) == 1
    assert threads != {threading.get_ident()}
    await sql.close()


async def test_setup_runs_once_and_a_call_before_open_opens(tmp_path: Path) -> None:
    """``run`` before ``open`` connects and runs the setup; ``open`` after that does nothing more."""
    setups: list[int] = []

    def setup(db: sqlite3.Connection) -> None:
        setups.append(1)
        db.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)")

    sql = SqliteFile(tmp_path / "a.sqlite3", "t", setup=setup)
    await sql.run(lambda db: db.execute("INSERT INTO t VALUES (1)"))
    await sql.open()
    await sql.open()
    assert setups == [1]

    def count(db: sqlite3.Connection, table: str, *, at_least: int = 0) -> int:
        return max(at_least, int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]))

    assert await sql.run(count, "t") == 1
    assert await sql.run(count, "t", at_least=7) == 7  # arguments and keywords pass through
    await sql.close()


async def test_a_failed_open_is_tried_again(tmp_path: Path) -> None:
    """A setup that fails raises to the caller, and the next call connects afresh."""
    tries: list[int] = []

    def setup(db: sqlite3.Connection) -> None:
        tries.append(1)
        if len(tries) == 1:
            msg = "disk I/O error (first time)"
            raise sqlite3.OperationalError(msg)
        db.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)")

    sql = SqliteFile(tmp_path / "a.sqlite3", "t", setup=setup)
    with pytest.raises(sqlite3.OperationalError, match="first time"):
        await sql.open()
    await sql.open()
    assert len(tries) == 2
    assert await sql.run(lambda db: db.execute("SELECT count(*) FROM t").fetchone()[0]) == 0
    await sql.close()


async def test_after_close_every_call_is_refused(tmp_path: Path) -> None:
    """close() is idempotent; a call after it raises SqliteClosedError (a RuntimeError)."""
    sql = SqliteFile(tmp_path / "a.sqlite3", "t")
    await sql.open()
    await sql.close()
    await sql.close()
    assert sql.closed
    with pytest.raises(SqliteClosedError, match="closed"):
        await sql.run(_thread)
    never_opened = SqliteFile(tmp_path / "b.sqlite3", "t")
    await never_opened.close()
    assert not (tmp_path / "b.sqlite3").exists()


async def test_an_error_in_the_call_reaches_the_caller(tmp_path: Path) -> None:
    """The caller gets the call's own exception, and the file keeps working after it."""
    sql = SqliteFile(tmp_path / "a.sqlite3", "t")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await sql.run(lambda db: db.execute("SELECT * FROM missing"))
    assert await sql.run(lambda db: db.execute("SELECT 1").fetchone()[0]) == 1
    await sql.close()


def _pragmas(db: sqlite3.Connection) -> tuple[str, int, int, object]:
    journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    sync = db.execute("PRAGMA synchronous").fetchone()[0]
    busy = db.execute("PRAGMA busy_timeout").fetchone()[0]
    return journal, sync, busy, db.isolation_level


async def test_durable_autocommit_and_busy_timeout(tmp_path: Path) -> None:
    """Durable: WAL and synchronous=FULL (2); otherwise SQLite's defaults; autocommit leaves
    transactions to the caller; the busy timeout is set as asked (else Python's 5 s)."""
    durable = SqliteFile(tmp_path / "d" / "a.sqlite3", "t", autocommit=True, busy_timeout_ms=250)
    assert await durable.run(_pragmas) == ("wal", 2, 250, None)
    plain = SqliteFile(tmp_path / "b.sqlite3", "t", durable=False)
    journal, _, busy, isolation = await plain.run(_pragmas)
    assert (journal, busy, isolation) == ("delete", 5000, "")
    await durable.close()
    await plain.close()


async def test_without_autocommit_a_write_is_seen_by_others_only_once_committed(
    tmp_path: Path,
) -> None:
    """The default (not autocommit) opens a transaction on a write; another connection sees the row
    after the commit."""
    path = tmp_path / "a.sqlite3"
    sql = SqliteFile(path, "t", setup=lambda db: db.execute("CREATE TABLE t (v INTEGER)"))
    await sql.run(lambda db: db.execute("INSERT INTO t VALUES (1)"))
    other = sqlite3.connect(path)
    assert other.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    await sql.run(lambda db: db.commit())
    assert other.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    other.close()
    await sql.close()
