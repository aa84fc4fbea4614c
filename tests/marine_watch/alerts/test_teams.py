"""Team preferences, the teams file's validation and the e-mail outbox's keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from marine_watch.alerts.book import AlertMessage, MsgType, Subject
from marine_watch.alerts.mailer import Mail, MailStore, message_id
from marine_watch.alerts.teams import Team, Teams, load_teams
from marine_watch.coast import load_catalogue
from marine_watch.errors import ConfigError
from tests.helpers import CONFIG


def message(
    level: int, zone: str = "zhapu-harbour", tier: str = "village", hazard: str = "storm_surge"
) -> AlertMessage:
    msg_type = MsgType.CANCEL if level == 0 else MsgType.ALERT
    colour = ("none", "blue", "yellow", "orange", "red")[level]
    return AlertMessage(
        f"mw-{zone}-{level}", f"mw-{zone}", Subject.ZONE, zone, tier, msg_type, level, colour,
        0.0, (), "headline", {"hazard": hazard},
    )  # fmt: skip


def test_preferences_select_zones_tiers_hazards_and_minimum_colour() -> None:
    team = Team(
        id="t",
        name="T",
        zones=("zhapu-harbour",),
        tiers=("village",),
        hazards=("overtopping", "storm_surge"),
        min_colour="yellow",
    )
    assert team.wants(message(2))
    assert not team.wants(message(1))  # below the minimum colour
    assert team.wants(message(0))  # the all-clear of what it may have had
    assert not team.wants(message(3, zone="tianfei"))
    assert not team.wants(message(3, tier="town"))
    assert not team.wants(message(3, hazard="wind"))
    everything = Team(id="all", name="All")
    assert everything.wants(message(1, zone="pinghu", tier="city", hazard="wind"))


def test_the_sample_teams_file_loads_and_chains() -> None:
    zones = {z.id for z in load_catalogue(CONFIG).zones}
    teams = load_teams(CONFIG / "teams.toml", zones)
    assert teams.escalation.status == "SAMPLE"
    assert teams.escalation.delay("village") == 900
    first = teams.first(message(1))
    assert first is not None
    assert first.id == "zhapu-harbour-group"
    chain = [first.id]
    while (nxt := teams.team(chain[-1])) and nxt.escalate_to:
        chain.append(nxt.escalate_to)
    assert chain == ["zhapu-harbour-group", "zhapu-town-office", "pinghu-hq"]


def test_bad_teams_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown team"):
        Teams.model_validate({"teams": [{"id": "a", "name": "A", "escalate_to": "nobody"}]})
    with pytest.raises(ValidationError):
        Team.model_validate({"id": "a", "name": "A", "email": ["not an address"]})
    with pytest.raises(ValidationError):
        Team.model_validate({"id": "a", "name": "A", "min_colour": "green"})
    path = tmp_path / "teams.toml"
    path.write_text('[[teams]]\nid = "a"\nname = "A"\nzones = ["atlantis"]\n')
    with pytest.raises(ConfigError, match=r"teams\.a\.zones: unknown zones"):
        load_teams(path, {"zhapu"})
    path.write_text('[[teams]]\nid = "a"\nname = "A"\nmin_colour = "green"\n')
    with pytest.raises(ConfigError, match=r"teams\.0\.min_colour"):
        load_teams(path, {"zhapu"})
    assert load_teams(tmp_path / "missing.toml", set()).teams == ()


async def test_outbox_adds_each_key_once_across_reopen(tmp_path: Path) -> None:
    """An e-mail queued twice, before or after a restart, is one e-mail."""
    mail = Mail("mw-1:alert:t:a@b.invalid", "t", "a@b.invalid", "mw-1", "subject", "body")
    store = MailStore(tmp_path / "mail.sqlite3")
    await store.open()
    assert await store.enqueue([mail, mail]) == 1
    await store.record(mail.key, "sent", 1, 0.0, None, 1.0)
    await store.close()
    again = MailStore(tmp_path / "mail.sqlite3")
    await again.open()
    assert await again.enqueue([mail]) == 0
    assert await again.due(1e12, 10) == []
    rows = await again.of_alert("mw-1")
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 1)]
    await again.close()
    assert message_id(mail.key, "x@example.org") == message_id(mail.key, "x@example.org")
    assert message_id(mail.key, "x@example.org").endswith("@example.org>")
