"""Answers of operations and administration: health, dead letters, users, reload."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from marine_watch.api.answers.base import Answer
from marine_watch.api.answers.places import Freshness


class StoreHealth(Answer):
    """The reading store's kind and whether it answers."""

    kind: str
    reachable: bool
    problem: str | None = Field(
        description="why the store refused the service's account (401/403), else null"
    )


class Health(Answer):
    """Liveness and the state of each dependency (503 with the same body when degraded)."""

    status: Literal["ok", "degraded"]
    node_role: str
    mqtt: Literal["connected", "disconnected"]
    store: StoreHealth
    spool_pending_batches: int
    last_evaluation_s: float | None
    now_s: float
    freshness: Freshness


class DeadLetter(Answer):
    """A payload that could not become readings."""

    id: int
    topic: str
    received_s: float
    reason: str
    detail: str
    raw: str = Field(description="the payload (first 4096 bytes), UTF-8 with replacements")
    size: int


class DeadLetters(Answer):
    """Dead letters, newest first."""

    count: int
    items: list[DeadLetter]


class User(Answer):
    """A user and role (never a key or its hash)."""

    name: str
    role: str
    source: Literal["config", "admin"]


class NewUser(Answer):
    """A user just made; the key is shown this once."""

    name: str
    role: str
    key: str


class Reloaded(Answer):
    """What a reload re-read, and how many keys are known."""

    reloaded: list[str]
    keys: int
