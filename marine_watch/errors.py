"""Errors of the service.

* MarineWatchError
  * ConfigError         bad settings or config/: file, key, problem; start-up stops
  * StoreError
    * StoreUnavailable  connect, timeout, 5xx: retry, then spool
    * StoreRejected     4xx, bad line protocol: dead-letter the batch
  * SpoolError          the disk spool cannot be written: readings stay unacknowledged at the broker
  * NotOnThisNode       a feature this node's role does not run (an API node has no alerts)
"""

from __future__ import annotations

from pathlib import Path


class MarineWatchError(Exception):
    """Base of every error the service raises on purpose."""


class ConfigError(MarineWatchError):
    """A setting or config file is wrong; the message names file, key and problem."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.path}: {key}: {problem}")


class StoreError(MarineWatchError):
    """The store failed."""


class StoreUnavailable(StoreError):  # noqa: N818 - reads as a state, like httpx's TimeoutException
    """The store could not be reached or answered 5xx; retry, then spool."""


class StoreRejected(StoreError):  # noqa: N818
    """The store refused the batch (4xx); retrying will not help."""


class SpoolError(MarineWatchError):
    """The local spool could not be written (disk full, permissions)."""


class NotOnThisNode(MarineWatchError):  # noqa: N818 - reads as a state
    """The feature is not run by this node's role (``MARINE_WATCH_NODE_ROLE``)."""

    def __init__(self, role: str) -> None:
        self.role = role
        super().__init__(f"not served by a node with role {role!r}")
