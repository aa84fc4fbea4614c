"""Settings and config/: a bad value stops start-up naming the file, the key and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from marine_watch.coast import load_catalogue
from marine_watch.errors import ConfigError
from marine_watch.settings import load_settings
from sensors.qc import QcHistory
from sensors.reading import Reading
from tests.helpers import CONFIG


@pytest.fixture
def config_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of config/, selected through MARINE_WATCH_CONFIG_DIR."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    monkeypatch.setenv("MARINE_WATCH_CONFIG_DIR", str(target))
    return target


def test_env_overrides_the_toml_file(config_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MARINE_WATCH_* variables win over config/marine_watch.toml."""
    monkeypatch.setenv("MARINE_WATCH_MQTT_URL", "mqtt://broker.example:2883")
    monkeypatch.setenv("MARINE_WATCH_STORE", "influxdb")
    settings = load_settings()
    assert (settings.mqtt_host, settings.mqtt_port, settings.store) == (
        "broker.example",
        2883,
        "influxdb",
    )
    assert settings.config_dir == config_copy


def test_bad_env_value_names_the_variable_key_and_problem(
    config_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-integer port in the environment is reported with the variable's name."""
    monkeypatch.setenv("MARINE_WATCH_HTTP_PORT", "eighty")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.path == "env MARINE_WATCH_HTTP_PORT"
    assert err.value.key == "http_port"
    assert "integer" in err.value.problem


def test_bad_toml_value_names_the_file(config_copy: Path) -> None:
    """A wrong store kind in the TOML file names that file."""
    path = config_copy / "marine_watch.toml"
    path.write_text(path.read_text().replace('store = "sqlite"', 'store = "postgres"'))
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.path == str(path)
    assert err.value.key == "store"


def test_malformed_toml_stops_start_up(config_copy: Path) -> None:
    """A TOML syntax error is a ConfigError, not a traceback."""
    (config_copy / "marine_watch.toml").write_text("store = \n")
    with pytest.raises(ConfigError, match=r"marine_watch\.toml"):
        load_settings()


def test_sample_catalogue_loads_with_a_city_three_towns_and_villages() -> None:
    """The shipped coast is consistent: the Pinghu-like region, and a small second region."""
    catalogue = load_catalogue(CONFIG)
    pinghu = [z.tier.value for z in catalogue.zones if z.region == "pinghu"]
    assert pinghu.count("city") == 1
    assert pinghu.count("town") == 3
    assert pinghu.count("village") >= 6
    haiyan = [z.tier.value for z in catalogue.zones if z.region == "haiyan"]
    assert sorted(haiyan) == ["city", "town", "village"]
    assert {s.region for s in catalogue.stations} == {"pinghu", "haiyan"}
    assert {d.region for d in catalogue.segments} == {"pinghu"}
    assert 8 <= len(catalogue.stations) <= 12
    assert 4 <= len(catalogue.segments) <= 6
    assert all(s.warning_levels.status == "SAMPLE" for s in catalogue.stations if s.warning_levels)


def test_catalogue_error_names_file_entry_and_key(config_copy: Path) -> None:
    """A station with an impossible latitude is reported by file, station id and key."""
    path = config_copy / "stations.toml"
    path.write_text(path.read_text().replace("lat = 30.600", "lat = 300.6", 1))
    with pytest.raises(ConfigError) as err:
        load_catalogue(config_copy)
    assert err.value.path == str(path)
    assert err.value.key == "stations[zhapu].lat"


def test_warning_levels_must_rise(config_copy: Path) -> None:
    """Warning tide levels out of order are refused with the reason."""
    path = config_copy / "stations.toml"
    path.write_text(path.read_text().replace("orange = 5.10", "orange = 4.00", 1))
    with pytest.raises(ConfigError, match="rise strictly"):
        load_catalogue(config_copy)


def test_unknown_references_are_listed(config_copy: Path) -> None:
    """A dike segment pointing at a station that does not exist is refused."""
    path = config_copy / "dikes.toml"
    path.write_text(
        path.read_text().replace('tide_station = "huangshan"', 'tide_station = "nowhere"')
    )
    with pytest.raises(ConfigError, match="unknown station 'nowhere'"):
        load_catalogue(config_copy)


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ("tide_level = 1.0 ", "tide_level = -1.0 ", "qc.spike.limit.tide_level", "greater than 0"),
        ("tide_level = [-10.0, 15.0]", "tide_level = [15.0, -10.0]", "qc", "low 15.0"),
        ("tide_level = [-10.0, 15.0]", "tsunami = [0.0, 1.0]", "qc.range.tsunami", "tide_level"),
        ("min_neighbours = 3", "min_neighbours = 9", "qc.spike.min_neighbours", "less than"),
    ],
)
def test_bad_qc_settings_name_file_key_and_problem(
    config_copy: Path, old: str, new: str, key: str, problem: str
) -> None:
    """QC thresholds live in config/qc.toml; a bad one stops start-up with file, key and problem."""
    path = config_copy / "qc.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_catalogue(config_copy)
    assert err.value.path == str(path)
    assert err.value.key == key
    assert problem in str(err.value)


def test_qc_settings_from_config_change_the_flags(config_copy: Path) -> None:
    """A tighter spike limit in qc.toml flags a jump the shipped one lets through."""
    path = config_copy / "qc.toml"
    path.write_text(path.read_text().replace("tide_level = 1.0 ", "tide_level = 0.2 ", 1))
    shipped, tight = load_catalogue(CONFIG).qc, load_catalogue(config_copy).qc
    t0, minute = 1_795_000_000 * 10**9, 60 * 10**9
    series = [Reading("zhapu", "tide_level", t0 + i * minute, 2.0 + 0.01 * i) for i in range(5)]
    jump = Reading("zhapu", "tide_level", t0 + 5 * minute, 2.5)
    flags = []
    for rules in (shipped, tight):
        history = QcHistory(rules)
        history.check_batch(series)
        flags.append(history.check(jump).qc)
    assert flags == ["ok", "spike"]


def test_each_region_stands_alone(config_copy: Path) -> None:
    """A zone leaning on another region's station, or a region without its one city, is refused."""
    path = config_copy / "zones.geojson"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace('"mast-xitangqiao"', '"mast-zhapu"'), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_catalogue(config_copy)
    assert "'mast-zhapu' is in region 'pinghu', the zone in 'haiyan'" in str(err.value)
    path.write_text(original.replace('"tier": "city"', '"tier": "town"', 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_catalogue(config_copy)
    assert "region 'pinghu' needs exactly one zone of tier 'city'" in str(err.value)


def test_a_zone_id_may_not_start_with_an_underscore(config_copy: Path) -> None:
    """Ids starting with '_' are the risk topics' own subtopics (docs/ARCHITECTURE.md §3)."""
    path = config_copy / "zones.geojson"
    text = path.read_text(encoding="utf-8").replace('"tianfei"', '"_tianfei"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_catalogue(config_copy)
    assert "reserved for the risk topics" in str(err.value)
