"""The `marine-watch` command: help, exit codes (0 ok, 2 bad input) and messages that say what to fix."""

import asyncio
import csv
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from marine_watch.cli.main import main
from marine_watch.coast import load_catalogue, load_constants
from marine_watch.settings import Settings
from marine_watch.store.factory import open_store
from risk_models.tide import predict
from sensors.reading import Reading
from tests.helpers import CONFIG

M2_S = 12.4206012 * 3600
S2_S = 12.0 * 3600
START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings of this test alone: a copy of config/ and an empty data dir."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    monkeypatch.setenv("MARINE_WATCH_CONFIG_DIR", str(config))
    monkeypatch.setenv("MARINE_WATCH_DATA_DIR", str(tmp_path / "data"))
    return config


def _tide(times: np.ndarray) -> np.ndarray:
    t = times - START
    return 0.3 + 2.1 * np.cos(2 * np.pi * t / M2_S - 1.0) + 0.7 * np.cos(2 * np.pi * t / S2_S - 0.4)


def _observations(path: Path) -> Path:
    """30 days of the two-constituent tide every 10 minutes, as a time,value CSV."""
    times = START + np.arange(0, 30 * 86400, 600.0)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["time", "value"])
        for t, v in zip(times, _tide(times), strict=True):
            writer.writerow([datetime.fromtimestamp(t, UTC).isoformat(), f"{v:.4f}"])
    return path


def test_help_lists_every_command() -> None:
    """`marine-watch --help` exits 0 and names each command."""
    done = subprocess.run(
        [sys.executable, "-m", "marine_watch.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    for command in (
        "serve", "demo", "simulate", "replay", "check-config", "tide", "overtopping", "hindcast"
    ):  # fmt: skip
        assert command in done.stdout


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command the usage is printed and the exit code is 2."""
    assert main([]) == 2
    assert "commands" in capsys.readouterr().out


def test_replay_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    """`replay --help` documents the columns, unit scale and an example."""
    with pytest.raises(SystemExit) as exit_:
        main(["replay", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--unit-scale" in out
    assert "example:" in out


def test_check_config_ok(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sound config/ is summarised with exit code 0."""
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "config ok" in out
    assert "teams: 3, escalation after village 900 s, town 1200 s, city 1800 s (SAMPLE)" in out
    assert "e-mail: off" in out


def test_check_config_names_file_key_and_problem(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken station latitude stops with exit 2 and names the file, the key and the problem."""
    path = isolated / "stations.toml"
    path.write_text(path.read_text().replace("lat = 30.600", 'lat = "north"', 1))
    assert main(["check-config"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err
    assert "stations.toml" in err
    assert "lat" in err
    assert "number" in err.lower() or "float" in err.lower()


def test_check_config_checks_the_storm_cases(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The storm cases of `hindcast` are config: check-config counts them and names a broken one."""
    assert main(["check-config"]) == 0
    assert "storm cases (hindcast): 3, surge forecast: persistence" in capsys.readouterr().out
    path = isolated / "hindcast" / "juan_halifax_2003.toml"
    path.write_text(path.read_text().replace('to = "2003-10-02', 'to = "2003-09-02'))
    assert main(["check-config"]) == 2
    err = capsys.readouterr().err
    assert "juan_halifax_2003.toml" in err
    assert "window must run forward" in err


def test_tide_fit_and_predict_round_trip(tmp_path: Path) -> None:
    """Constants fitted to a 30-day CSV predict the same series back to within a centimetre."""
    source = _observations(tmp_path / "obs.csv")
    constants = tmp_path / "c.json"
    assert main(["tide", "fit", str(source), "--lat", "30.6", "-o", str(constants)]) == 0
    assert {"M2", "S2"} <= {c["name"] for c in json.loads(constants.read_text())["constituents"]}
    out = tmp_path / "pred.csv"
    start, end = "2026-01-10T00:00:00Z", "2026-01-12T00:00:00Z"
    assert (
        main(
            [
                "tide",
                "predict",
                str(constants),
                "--start",
                start,
                "--end",
                end,
                "--step",
                "600",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    got_t = np.array([datetime.fromisoformat(r["time"]).timestamp() for r in rows])
    got_v = np.array([float(r["value"]) for r in rows])
    assert np.max(np.abs(got_v - _tide(got_t))) < 0.01


@pytest.mark.parametrize("station", sorted(p.name for p in (CONFIG / "tide_constants").iterdir()))
def test_tide_predict_reads_the_shipped_constants(station: str, tmp_path: Path) -> None:
    """Every command reads the one constants format: `tide predict` on config/tide_constants/*.json
    (with their status and source) predicts the same tide the service does."""
    out = tmp_path / "pred.csv"
    args = ["--start", "2026-11-23T00:00:00Z", "--end", "2026-11-24T00:00:00Z", "--step", "3600"]
    assert (
        main(["tide", "predict", str(CONFIG / "tide_constants" / station), *args, "-o", str(out)])
        == 0
    )
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 25
    doc = json.loads((CONFIG / "tide_constants" / station).read_text())
    assert doc["status"] == "SAMPLE"
    assert "docs/DOMAIN.md" in doc["source"]
    served = load_constants(Settings(config_dir=CONFIG), load_catalogue(CONFIG))
    ours = next(c for sid, c in served.items() if f"{sid}.json" == station)
    times = np.array([datetime.fromisoformat(r["time"]).timestamp() for r in rows])
    np.testing.assert_allclose([float(r["value"]) for r in rows], predict(ours, times), atol=1e-4)


def test_fitted_constants_keep_their_provenance_and_load_in_the_service(tmp_path: Path) -> None:
    """`tide fit` writes where its numbers come from; the file works as a station's constants."""
    obs = _observations(tmp_path / "obs.csv")
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    fitted = config / "tide_constants" / "zhapu.json"
    assert main(["tide", "fit", str(obs), "--lat", "30.6", "-o", str(fitted)]) == 0
    doc = json.loads(fitted.read_text())
    assert doc["source"].startswith(
        f"marine-watch tide fit of {obs}: 4320 values, 2026-01-01 00:00"
    )
    constants = load_constants(Settings(config_dir=config), load_catalogue(config))["zhapu"]
    assert abs(float(predict(constants, np.array([START]))[0]) - _tide(np.array([START]))[0]) < 0.01


def test_constants_with_bad_provenance_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Provenance must be text; an unknown key is still refused, naming it."""
    doc = json.loads((CONFIG / "tide_constants" / "zhapu.json").read_text())
    for change, key in (({"source": 3}, "'source'"), ({"colour": "red"}, "'colour'")):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**doc, **change}))
        args = ["--start", "2026-11-23", "--end", "2026-11-24", "-o", str(tmp_path / "o.csv")]
        assert main(["tide", "predict", str(bad), *args]) == 2
        assert key in capsys.readouterr().err


def test_tide_fit_reads_a_station_from_the_configured_store(
    isolated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tide fit --station` reads the station's stored readings (SQLite here) and fits them."""
    times = START + np.arange(0, 20 * 86400, 600.0)
    readings = [
        Reading("zhapu", "tide_level", int(t * 1e9), float(v))
        for t, v in zip(times, _tide(times), strict=True)
    ]

    async def fill() -> None:
        (tmp_path / "data").mkdir()
        async with open_store("sqlite", sqlite_path=tmp_path / "data" / "readings.sqlite3") as s:
            await s.write(readings)

    asyncio.run(fill())
    constants = tmp_path / "c.json"
    argv = ["tide", "fit", "--station", "zhapu", "--from", "2026-01-01", "--to", "2026-01-21"]
    assert main([*argv, "-o", str(constants)]) == 0
    fitted = json.loads(constants.read_text())
    m2 = next(c for c in fitted["constituents"] if c["name"] == "M2")
    assert m2["amplitude"] == pytest.approx(2.1, rel=0.05)  # the fit applies nodal factors
    assert "fitted" in capsys.readouterr().out


def test_tide_fit_station_without_readings_says_so(
    isolated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty window exits 2 and names the station, the store and the window."""
    argv = ["tide", "fit", "--station", "zhapu", "--from", "2026-01-01", "--to", "2026-01-02"]
    assert main([*argv, "-o", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert "no tide_level readings of 'zhapu'" in err
    assert "sqlite" in err


def test_tide_fit_needs_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Neither a CSV nor --station: exit 2 with what to give."""
    assert main(["tide", "fit", "-o", str(tmp_path / "c.json")]) == 2
    assert "either a CSV file or --station" in capsys.readouterr().err


def test_overtopping_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`overtopping --json` prints the discharge, level and formula."""
    argv = ["overtopping", "--structure", "sloping", "--hm0", "2", "--tm10", "6"]
    assert main([*argv, "--cot-alpha", "3", "--freeboard", "2", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["formula"] == "5.12"
    assert body["q_l_per_s_per_m"] == pytest.approx(146.67, rel=1e-3)
    assert body["colour"] == "red"


def test_overtopping_outside_validity_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A slope outside EurOtop's range exits 2 and names the parameter and its range."""
    argv = ["overtopping", "--structure", "sloping", "--hm0", "2", "--tm10", "6"]
    assert main([*argv, "--cot-alpha", "0.2", "--freeboard", "2", "--json"]) == 2
    assert "cot_alpha = 0.2 is outside the validity range" in capsys.readouterr().err


def test_check_config_refuses_a_team_of_an_unknown_zone(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A team naming a zone that does not exist stops with exit 2, naming the file and the key."""
    path = isolated / "teams.toml"
    path.write_text(path.read_text().replace('"zhapu-harbour", "tianfei"', '"atlantis"', 1))
    assert main(["check-config"]) == 2
    err = capsys.readouterr().err
    assert "teams.toml" in err
    assert "teams.zhapu-harbour-group.zones: unknown zones ['atlantis']" in err
