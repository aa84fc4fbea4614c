"""Partitioned ingest: every station in exactly one part, checked at start-up and by the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from marine_watch.app import create_app
from marine_watch.cli.main import main
from marine_watch.coast import load_catalogue
from marine_watch.errors import ConfigError
from marine_watch.ingest.partition import MAP_FILE, hash_map, part_of, problems, stations_of
from marine_watch.ingest.subscriber import subscriptions
from marine_watch.settings import Settings
from tests.helpers import CONFIG

STATIONS = [s.id for s in load_catalogue(CONFIG).stations]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    monkeypatch.setenv("MARINE_WATCH_CONFIG_DIR", str(target))
    monkeypatch.setenv("MARINE_WATCH_DATA_DIR", str(tmp_path / "data"))
    return target


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16])
def test_a_hash_partition_covers_every_station_once(n: int) -> None:
    parts = hash_map(STATIONS, n)
    assert len(parts) == n
    assert sorted(s for members in parts.values() for s in members) == sorted(STATIONS)
    assert problems(parts, STATIONS) == []


def test_the_hash_is_stable_across_runs() -> None:
    """CRC-32, not Python's salted hash(): the same part on every machine (values fixed here)."""
    assert [part_of(s, 3) for s in ("zhapu", "dushan", "wq-tianfei")] == [1, 3, 2]


def test_the_shipped_map_is_complete() -> None:
    stations = stations_of("gauges", CONFIG, STATIONS) + stations_of(
        "buoys-masts", CONFIG, STATIONS
    )
    assert sorted(stations) == sorted(STATIONS)


def test_a_map_with_a_station_twice_or_never_stops_the_node(config: Path) -> None:
    (config / MAP_FILE).write_text(
        '[partitions]\na = ["zhapu", "dushan"]\nb = ["dushan", "nowhere"]\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        create_app(Settings(config_dir=config, node_role="ingest", ingest_partition="a"))
    problem = err.value.problem
    assert "'dushan' is in both 'a' and 'b'" in problem
    assert "unknown station 'nowhere'" in problem
    assert "in no partition: huangshan" in problem
    assert main(["check-partitions"]) == 2


def test_bad_partition_settings_are_refused(config: Path) -> None:
    with pytest.raises(ConfigError, match="need 1 <= k <= n"):
        stations_of("4/3", config, STATIONS)
    with pytest.raises(ConfigError, match="neither k/n nor a part"):
        stations_of("west", config, STATIONS)
    with pytest.raises(ValidationError, match="risk node must receive every reading"):
        Settings(node_role="risk", ingest_partition="1/2")
    with pytest.raises(ValidationError, match="shared group or a partition"):
        Settings(node_role="ingest", mqtt_shared_group="g", ingest_partition="1/2")
    empty = next(f"{k}/5" for k in range(1, 6) if not hash_map(STATIONS, 5)[f"{k}/5"])
    with pytest.raises(ConfigError, match="no station hashes to this part"):
        stations_of(empty, config, STATIONS)


def test_a_node_subscribes_to_its_stations_only() -> None:
    settings = Settings(mqtt_topic_root="marine/v1/", ingest_partition="1/2")
    assert subscriptions(settings, ("zhapu", "dushan")) == [
        "marine/v1/zhapu/#",
        "marine/v1/dushan/#",
    ]
    assert subscriptions(Settings()) == ["marine/v1/#"]


def test_the_cli_prints_the_map_and_flags_an_empty_part(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-partitions"]) == 0
    assert "every one of 12 stations in exactly one partition" in capsys.readouterr().out
    assert main(["check-partitions", "--nodes", "3"]) == 0
    assert main(["check-partitions", "--nodes", "5"]) == 2  # one part of five hashes no station
    assert "no station in" in capsys.readouterr().err
