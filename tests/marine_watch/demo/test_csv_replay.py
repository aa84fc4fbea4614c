"""Replaying a historical CSV record over MQTT: reading, checking, pacing, and the live pipeline."""

import asyncio
import csv
from pathlib import Path

import httpx
import pytest

from marine_watch.coast import load_catalogue
from marine_watch.demo.csv_replay import (
    BATCH_MAX,
    ReplayError,
    batches,
    check_target,
    publish,
    read_series,
)
from marine_watch.mqtt.client import MqttEndpoint
from marine_watch.settings import Settings
from sensors.reading import Kind
from tests.helpers import REFERENCE, serve
from tests.services import CONFIG_DIR, Broker, scaled

VLISSINGEN = REFERENCE / "tide_vlissingen_2018q1_10min_matroos.csv"


def _csv(
    path: Path, rows: list[list[str]], header: tuple[str, ...] = ("time_utc", "water_level_m")
) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_reads_the_vlissingen_record() -> None:
    """The 10-minute Vlissingen record reads in order, in metres, from 2018-01-01."""
    series = read_series(VLISSINGEN, "time_utc", "water_level_m")
    assert series.times_s[0] == 1514764800.0
    assert all(b > a for a, b in zip(series.times_s, series.times_s[1:], strict=False))
    assert -3.5 < min(series.values) < max(series.values) < 4.5  # m NAP; 3.60 on 3 Jan


def test_unit_scale_and_sorting(tmp_path: Path) -> None:
    """Values are scaled (cm → m), rows sorted by time, empty values skipped and counted."""
    path = _csv(
        tmp_path / "r.csv",
        [
            ["2018-01-01T00:10:00Z", "250"],
            ["2018-01-01T00:00:00", "246"],
            ["2018-01-01T00:20:00Z", ""],
        ],
    )
    series = read_series(path, "time_utc", "water_level_m", unit_scale=0.01)
    assert series.values == (2.46, 2.5)
    assert series.skipped == 1


@pytest.mark.parametrize(
    ("rows", "header", "expected"),
    [
        (
            [["2018-01-01T00:00:00Z", "1"]],
            ("time", "value"),
            "no column 'time_utc'; the header has ['time', 'value']",
        ),
        ([["yesterday", "1"]], ("time_utc", "water_level_m"), "r.csv:2: 'yesterday' is not a time"),
        (
            [["2018-01-01T00:00:00Z", "high"]],
            ("time_utc", "water_level_m"),
            "r.csv:2: water_level_m='high' is not a number",
        ),
        ([], ("time_utc", "water_level_m"), "no readings"),
    ],
)
def test_bad_files_say_what_to_fix(
    tmp_path: Path, rows: list[list[str]], header: tuple[str, ...], expected: str
) -> None:
    """A wrong column, time, number or an empty file raises a message naming the file and line."""
    path = _csv(tmp_path / "r.csv", rows, header)
    with pytest.raises(ReplayError) as error:
        read_series(path, "time_utc", "water_level_m")
    assert expected in str(error.value)


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is named."""
    with pytest.raises(ReplayError, match="no such file"):
        read_series(tmp_path / "nope.csv", "time", "value")


def test_target_checks_station_and_kind() -> None:
    """Unknown stations or kinds, or a kind the station does not measure, are refused with the choices."""
    catalogue = load_catalogue(CONFIG_DIR)
    assert check_target(catalogue, "zhapu", "tide_level") is Kind.TIDE_LEVEL
    with pytest.raises(
        ReplayError, match=r"unknown station 'atlantis'; config/stations\.toml has: zhapu"
    ):
        check_target(catalogue, "atlantis", "tide_level")
    with pytest.raises(ReplayError, match="unknown kind 'tide'"):
        check_target(catalogue, "zhapu", "tide")
    with pytest.raises(
        ReplayError, match="'huangshan' does not measure wave_height; it has: tide_level"
    ):
        check_target(catalogue, "huangshan", "wave_height")


def test_pacing_follows_the_speed(tmp_path: Path) -> None:
    """At 600x ten-minute readings are one real second apart; at speed 0 they go at once in full batches."""
    rows = [[f"2018-01-01T{h:02d}:{m:02d}:00Z", "1.0"] for h in range(24) for m in range(0, 60, 10)]
    series = read_series(_csv(tmp_path / "r.csv", rows), "time_utc", "water_level_m")
    paced = batches(series, Kind.TIDE_LEVEL, 600.0)
    assert [due for due, _ in paced[:3]] == [0.0, 1.0, 2.0]
    assert paced[0][1][0] == {"kind": "tide_level", "ts": 1514764800000, "value": 1.0, "unit": "m"}
    burst = batches(series, Kind.TIDE_LEVEL, 0.0)
    assert [len(items) for _, items in burst] == [BATCH_MAX] * (len(rows) // BATCH_MAX) + [
        len(rows) % BATCH_MAX
    ]
    assert all(due == 0.0 for due, _ in burst)


@pytest.mark.services
@pytest.mark.timeout(120)
async def test_replay_goes_through_the_live_pipeline(
    mosquitto: Broker, tmp_path: Path, topic_root: str, mqtt_client_id: str
) -> None:
    """A replayed day of Vlissingen keeps its 2018 timestamps and is stored for the station."""
    settings = Settings(
        config_dir=CONFIG_DIR,
        data_dir=tmp_path / "data",
        mqtt_url=mosquitto.url,
        mqtt_topic_root=topic_root,
        mqtt_client_id=mqtt_client_id,
        store="sqlite",
        batch_max_wait_s=0.05,
    )
    series = read_series(VLISSINGEN, "time_utc", "water_level_m")
    day = type(series)(series.times_s[:144], series.values[:144], 0)
    async with serve(settings) as app:
        seen: list[int] = []
        sent = await publish(
            MqttEndpoint(mosquitto.host, mosquitto.port),
            f"{topic_root}/zhapu/batch",
            batches(day, Kind.TIDE_LEVEL, 0.0),
            progress=seen.append,
        )
        assert sent == 144
        assert seen[-1] == 144
        params = {
            "kind": "tide_level",
            "from": "2018-01-01T00:00:00Z",
            "to": "2018-01-02T00:00:00Z",
        }
        async with httpx.AsyncClient(base_url=app.http) as http, asyncio.timeout(scaled(15)):
            while True:
                points = (await http.get("/api/v1/stations/zhapu/readings", params=params)).json()[
                    "points"
                ]
                if len(points) == 144:
                    break
                await asyncio.sleep(0.1)
    assert points[0]["ts"] == 1514764800.0
    assert [p["value"] for p in points] == list(day.values)
