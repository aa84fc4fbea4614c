"""One contract for every Store: each test runs against SQLite and against a private InfluxDB."""

import asyncio
import gc
import random
import time
from pathlib import Path

import pytest

from marine_watch.errors import ConfigError, StoreRejected, StoreUnavailable
from marine_watch.store import SeriesPoint, Store
from marine_watch.store.factory import open_store
from marine_watch.store.influx import InfluxStore
from sensors.reading import Kind, QcFlag, Reading
from tests.services import Influx, free_port, scaled

S = 1_000_000_000  # ns per second
T0 = 1_699_999_200 * S  # 2023-11-14T22:00:00Z: a whole hour, so every bucket used here starts at T0
TIDE = Kind.TIDE_LEVEL.value
WAVE = Kind.WAVE_HEIGHT.value


def tide(station: str, seconds: int, value: float, qc: str = QcFlag.OK.value) -> Reading:
    return Reading(station, TIDE, T0 + seconds * S, value, qc)


def as_tuples(points: list[SeriesPoint]) -> list[tuple[str, str, int, float, str]]:
    return [(p.station, p.kind, p.ts_ns, p.value, p.qc) for p in points]


async def test_written_readings_read_back_unchanged(store: Store) -> None:
    """Every field of a reading survives a write and a query."""
    readings = [tide("PH01", i, 3.25 + i / 8) for i in range(10)]
    await store.write(readings)
    points = await store.query("PH01", TIDE, T0, T0 + 10 * S)
    assert as_tuples(points) == [(r.station, r.kind, r.ts_ns, r.value, r.qc) for r in readings]


async def test_integral_and_extreme_values_come_back_as_floats(store: Store) -> None:
    """An integral value is stored as a float, and tiny and huge magnitudes keep their value."""
    values = [3.0, 0.0, -0.5, 1e-9, 1e20, -273.15, 1 / 3]
    await store.write([tide("PH01", i, v) for i, v in enumerate(values)])
    points = await store.query("PH01", TIDE, T0, T0 + 10 * S)
    assert [p.value for p in points] == values
    assert all(type(p.value) is float for p in points)


async def test_rewriting_a_reading_keeps_one_point(store: Store) -> None:
    """A replayed reading (same station, kind, time and qc) overwrites its point instead of adding one."""
    await store.write([tide("PH01", 0, 1.0), tide("PH01", 1, 2.0)])
    await store.write([tide("PH01", 0, 1.5), tide("PH01", 1, 2.0)])
    assert await store.count("PH01") == 2
    points = await store.query("PH01", TIDE, T0, T0 + 2 * S)
    assert [p.value for p in points] == [1.5, 2.0]


async def test_a_point_is_keyed_by_station_kind_and_time_whatever_its_flag(store: Store) -> None:
    """The qc flag is not part of the key: the same time with another flag is still one point."""
    await store.write([tide("PH01", 0, 1.0)])
    await store.write([tide("PH01", 0, 1.0, QcFlag.SPIKE.value)])
    assert await store.count("PH01") == 1
    points = await store.query("PH01", TIDE, T0, T0 + S)
    assert as_tuples(points) == [("PH01", TIDE, T0, 1.0, "spike")]


async def test_points_come_back_oldest_first(store: Store) -> None:
    """Readings written in any order are returned by time, oldest first."""
    seconds = list(range(200))
    random.Random(7).shuffle(seconds)
    await store.write([tide("PH01", s, float(s)) for s in seconds])
    points = await store.query("PH01", TIDE, T0, T0 + 200 * S)
    assert [p.ts_ns for p in points] == [T0 + s * S for s in range(200)]


async def test_time_range_includes_start_and_excludes_end(store: Store) -> None:
    """A query covers [start, end): the reading at start is in, the one at end is out."""
    await store.write([tide("PH01", s, float(s)) for s in range(10)])
    points = await store.query("PH01", TIDE, T0 + 3 * S, T0 + 7 * S)
    assert [p.value for p in points] == [3.0, 4.0, 5.0, 6.0]
    assert await store.query("PH01", TIDE, T0 + 3 * S, T0 + 3 * S) == []


async def test_query_keeps_to_its_station_and_kind(store: Store) -> None:
    """Other stations never leak in; kind None returns every kind of the station."""
    await store.write(
        [
            tide("PH01", 0, 1.0),
            Reading("PH01", WAVE, T0, 0.5),
            tide("PH02", 0, 9.0),
        ]
    )
    only_tide = await store.query("PH01", TIDE, T0, T0 + S)
    every_kind = await store.query("PH01", None, T0, T0 + S)
    assert as_tuples(only_tide) == [("PH01", TIDE, T0, 1.0, "ok")]
    assert as_tuples(every_kind) == [("PH01", TIDE, T0, 1.0, "ok"), ("PH01", WAVE, T0, 0.5, "ok")]
    assert await store.query("nowhere", None, T0, T0 + S) == []


async def test_limit_keeps_the_oldest_points(store: Store) -> None:
    """With a limit, the answer is the oldest ``limit`` points of the range."""
    await store.write([tide("PH01", s, float(s)) for s in range(50)])
    points = await store.query("PH01", TIDE, T0, T0 + 50 * S, limit=5)
    assert [p.value for p in points] == [0.0, 1.0, 2.0, 3.0, 4.0]


async def test_limit_counts_points_of_every_kind_together(store: Store) -> None:
    """Across kinds the limit applies to the merged answer, not to each kind."""
    await store.write([tide("PH01", s, float(s)) for s in range(10)])
    await store.write([Reading("PH01", WAVE, T0 + s * S + 1, float(s)) for s in range(10)])
    points = await store.query("PH01", None, T0, T0 + 10 * S, limit=5)
    assert [(p.kind, p.value) for p in points] == [
        (TIDE, 0.0),
        (WAVE, 0.0),
        (TIDE, 1.0),
        (WAVE, 1.0),
        (TIDE, 2.0),
    ]


async def test_closed_store_raises_store_unavailable(store: Store) -> None:
    """After close() a store raises StoreUnavailable instead of hanging; closing twice is harmless."""
    await store.close()
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.write([tide("PH01", 0, 1.0)])


async def test_downsampling_gives_bucket_means_stamped_with_bucket_start(store: Store) -> None:
    """every_s=60 averages each minute; a bucket carries its start time, aligned to the epoch."""
    await store.write([tide("PH01", s, float(s)) for s in range(0, 180, 10)])
    points = await store.query("PH01", TIDE, T0, T0 + 180 * S, every_s=60)
    assert as_tuples(points) == [
        ("PH01", TIDE, T0, 25.0, "ok"),
        ("PH01", TIDE, T0 + 60 * S, 85.0, "ok"),
        ("PH01", TIDE, T0 + 120 * S, 145.0, "ok"),
    ]


async def test_downsampling_respects_the_range_inside_a_bucket(store: Store) -> None:
    """A range that starts mid-bucket averages only the readings inside it, stamped at the bucket start."""
    await store.write([tide("PH01", s, float(s)) for s in range(0, 120, 10)])
    points = await store.query("PH01", TIDE, T0 + 30 * S, T0 + 90 * S, every_s=60)
    assert as_tuples(points) == [
        ("PH01", TIDE, T0, 40.0, "ok"),
        ("PH01", TIDE, T0 + 60 * S, 70.0, "ok"),
    ]


async def test_downsampling_skips_empty_buckets_and_splits_kinds_and_qc(store: Store) -> None:
    """Empty buckets are left out; each (bucket, kind, qc) is its own mean, so flagged data stay apart."""
    await store.write(
        [
            tide("PH01", 0, 1.0),
            tide("PH01", 10, 3.0),
            tide("PH01", 20, 50.0, QcFlag.SPIKE.value),
            Reading("PH01", WAVE, T0 + 5 * S, 0.4),
            tide("PH01", 200, 2.0),
        ]
    )
    points = await store.query("PH01", None, T0, T0 + 300 * S, every_s=60)
    assert as_tuples(points) == [
        ("PH01", TIDE, T0, 2.0, "ok"),
        ("PH01", TIDE, T0, 50.0, "spike"),
        ("PH01", WAVE, T0, 0.4, "ok"),
        ("PH01", TIDE, T0 + 180 * S, 2.0, "ok"),
    ]


async def test_count_all_and_per_station(store: Store) -> None:
    """count() counts every point, or those of one station."""
    assert await store.count() == 0
    await store.write([tide("PH01", s, 1.0) for s in range(3)] + [tide("PH02", 0, 1.0)])
    assert await store.count() == 4
    assert await store.count("PH01") == 3
    assert await store.count("PH03") == 0


async def test_qc_flag_is_kept(store: Store) -> None:
    """A flagged reading is stored with its flag, never dropped."""
    flags = [f.value for f in QcFlag if f is not QcFlag.CONFLICT]  # a conflict is never stored
    await store.write([tide("PH01", i, float(i), flag) for i, flag in enumerate(flags)])
    points = await store.query("PH01", TIDE, T0, T0 + 100 * S)
    assert [p.qc for p in points] == flags


@pytest.mark.parametrize(
    "station",
    [
        "with space",
        "with,comma",
        "with=equals",
        "all , = of them",
        "o'brien",
        "x' OR '1'='1",
        'double"quote',
        "乍浦-1",
    ],
)
async def test_station_ids_with_special_characters_round_trip(store: Store, station: str) -> None:
    """Separators and quotes in a station id are escaped on write and quoted in queries."""
    await store.write([tide(station, 0, 1.0), tide("other", 0, 2.0)])
    points = await store.query(station, TIDE, T0, T0 + S)
    assert as_tuples(points) == [(station, TIDE, T0, 1.0, "ok")]
    assert await store.count(station) == 1


@pytest.mark.parametrize("station", ["", "back\\slash", "line\nbreak", "nul\x00"])
async def test_station_ids_no_store_can_hold_are_rejected(store: Store, station: str) -> None:
    """An empty id, a backslash or a control character is refused by every store, and found nowhere."""
    with pytest.raises(StoreRejected):
        await store.write([tide(station, 0, 1.0)])
    assert await store.query(station, None, T0, T0 + S) == []
    assert await store.count(station) == 0


async def test_non_finite_value_is_rejected(store: Store) -> None:
    """NaN or infinity cannot be stored: the batch is rejected (and dead-lettered upstream)."""
    for bad in (float("nan"), float("inf")):
        with pytest.raises(StoreRejected):
            await store.write([tide("PH01", 0, 1.0), tide("PH01", 1, bad)])


async def test_ping_answers_true(store: Store) -> None:
    """A running store answers ping."""
    assert await store.ping()


async def test_large_batch_is_written_whole(store: Store) -> None:
    """A batch of 20,000 readings (a day of 13 kinds at one station per ~minute) is written and read back."""
    kinds = [k.value for k in Kind]
    readings = [Reading("PH01", kinds[i % len(kinds)], T0 + i * S, i / 1000) for i in range(20_000)]
    started = time.perf_counter()
    async with asyncio.timeout(scaled(60)):
        await store.write(readings)
    written_s = time.perf_counter() - started
    assert await store.count("PH01") == 20_000
    points = await store.query("PH01", None, T0, T0 + 20_000 * S)
    assert len(points) == 20_000
    assert points[-1].value == 19.999
    assert written_s < scaled(30)


async def test_unknown_store_kind_is_a_config_error() -> None:
    """open_store refuses a store kind it does not know."""
    with pytest.raises(ConfigError, match="unknown store"):
        async with open_store("postgres"):
            pass


@pytest.mark.services
async def test_open_store_creates_a_missing_influx_database(influxd: Influx) -> None:
    """Opening the InfluxDB store creates its database, so the first write lands."""
    async with open_store("influxdb", influx_url=influxd.url, influx_db="t_created") as store:
        assert isinstance(store, InfluxStore)
        assert await store.database_exists()
        await store.write([tide("PH01", 0, 1.0)])
        assert await store.count() == 1
        await store.drop_database()


@pytest.mark.services
async def test_write_recreates_a_dropped_influx_database(influxd: Influx, influx_db: str) -> None:
    """If the database vanished (InfluxDB reset), the next write creates it again."""
    async with InfluxStore(influxd.url, influx_db) as store:
        await store.drop_database()
        await store.write([tide("PH01", 0, 1.0)])
        assert await store.count() == 1


async def test_influx_down_at_start_opens_and_write_raises_unavailable() -> None:
    """With InfluxDB unreachable the store still opens; a write raises StoreUnavailable (spool)."""
    url = f"http://127.0.0.1:{free_port()}"
    async with open_store("influxdb", influx_url=url, influx_db="x") as store:
        assert not await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.write([tide("PH01", 0, 1.0)])


async def test_sqlite_file_persists_across_opens(tmp_path: Path) -> None:
    """Readings written to the SQLite file are there after it is closed and opened again."""
    path = tmp_path / "readings.sqlite3"
    async with open_store("sqlite", sqlite_path=path) as store:
        await store.write([tide("PH01", 0, 1.0)])
    async with open_store("sqlite", sqlite_path=path) as store:
        assert await store.count() == 1


async def test_answers_cost_the_garbage_collector_nothing(store: Store) -> None:
    """A long history answer is untracked: it sets off no full collection while it is sent."""
    await store.write([tide("PH01", i, 1.0 + i / 100) for i in range(1000)])
    points = await store.query("PH01", TIDE, T0, T0 + 1000 * S)
    assert len(points) == 1000
    assert not any(gc.is_tracked(p) for p in points)
    assert points[0] == SeriesPoint("PH01", TIDE, T0, 1.0, QcFlag.OK.value)
