"""Emergency teams: who receives which alert, by which channel, and who is next when nobody answers.

``config/teams.toml`` (or the ``teams_file`` setting) lists the teams in order. Each has its
preferences (zones, tiers, hazards, minimum colour; empty = all), its channels (e-mail addresses, and
the webhooks its API principal registered) and the team an unacknowledged alert escalates to.
``[escalation]`` gives the delay per tier (SAMPLE policy: docs/ALERTS.md §2).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from marine_watch.alerts.book import AlertMessage, MsgType, Subject
from marine_watch.errors import ConfigError
from risk_models.levels import COLOUR_OF_CODE
from risk_models.types import Hazard
from sensors.catalogue import Tier

Colour = Literal["blue", "yellow", "orange", "red"]
TeamId = Annotated[str, Field(pattern=r"^[a-z0-9_\-]{1,64}$")]
Address = Annotated[str, Field(pattern=r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.\-]{1,190}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Team(_Frozen):
    """One team: its preferences, its channels and who is next."""

    id: TeamId
    name: str = Field(min_length=1, max_length=200)
    principal: str | None = Field(
        default=None,
        max_length=200,
        description="API principal (role:name) whose webhooks are this team's webhook channel",
    )
    email: tuple[Address, ...] = Field(default=(), max_length=20)
    zones: tuple[str, ...] = ()
    tiers: tuple[Tier, ...] = ()
    hazards: tuple[Hazard, ...] = ()
    min_colour: Colour = "blue"
    escalate_to: TeamId | None = None

    @property
    def min_level(self) -> int:
        """The team's minimum colour as a level (its index in COLOUR_OF_CODE, less one)."""
        return COLOUR_OF_CODE.index(self.min_colour) - 1

    def wants(self, message: AlertMessage) -> bool:
        """Whether this team's preferences take the message (a Cancel passes hazard and colour:
        the all-clear of whatever the alert was about)."""
        if message.subject != Subject.ZONE:
            return False
        hazard = str((message.explanation or {}).get("hazard", ""))
        free = message.msg_type == MsgType.CANCEL
        return (
            (free or message.level >= self.min_level)
            and (not self.zones or message.subject_id in self.zones)
            and (not self.tiers or message.tier in self.tiers)
            and (free or not self.hazards or hazard in {h.value for h in self.hazards})
        )


class Escalation(_Frozen):
    """Seconds an alert may wait for an acknowledgement before it goes to the next team."""

    delay_s: dict[Tier, Annotated[float, Field(gt=0, le=7 * 86400)]] = {}
    status: str = "SAMPLE"
    source: str = ""

    def delay(self, tier: str | None) -> float | None:
        """The escalation delay for an alert of this tier; None when the tier has none."""
        if tier is None:
            return None
        try:
            return self.delay_s.get(Tier(tier))
        except ValueError:
            return None


class Teams(_Frozen):
    """All teams, in the order of the file (the first that wants an alert is its first team)."""

    escalation: Escalation = Escalation()
    teams: tuple[Team, ...] = ()

    @model_validator(mode="after")
    def _known_targets(self) -> Teams:
        ids = [t.id for t in self.teams]
        if len(set(ids)) != len(ids):
            msg = "team ids must be unique"
            raise ValueError(msg)
        for team in self.teams:
            if team.escalate_to is not None and team.escalate_to not in ids:
                msg = f"team {team.id!r} escalates to unknown team {team.escalate_to!r}"
                raise ValueError(msg)
        return self

    def team(self, team_id: str) -> Team | None:
        """The team with this id, or None."""
        return next((t for t in self.teams if t.id == team_id), None)

    def wanting(self, message: AlertMessage) -> list[Team]:
        """The teams whose preferences take ``message``, in file order."""
        return [t for t in self.teams if t.wants(message)]

    def first(self, message: AlertMessage) -> Team | None:
        """The team an alert is first addressed to: the first in the file that wants it."""
        found = self.wanting(message)
        return found[0] if found else None


def load_teams(path: Path, zones: set[str]) -> Teams:
    """Read teams.toml; no file means no teams. A bad file (unknown keys, zones, teams, colours,
    addresses) is a ConfigError naming the problem: start-up stops."""
    if not path.is_file():
        return Teams()
    try:
        teams = Teams.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "-", f"not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(path, where, str(first["msg"])) from None
    for team in teams.teams:
        unknown = sorted(set(team.zones) - zones)
        if unknown:
            raise ConfigError(path, f"teams.{team.id}.zones", f"unknown zones {unknown}")
    return teams
