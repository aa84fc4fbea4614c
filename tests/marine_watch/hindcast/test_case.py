"""Storm case files and gauge records, function by function (tests/marine_watch/hindcast/test_run.py
runs whole cases through the CLI)."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from marine_watch.hindcast.case import (
    GaugeCase,
    HindcastError,
    Record,
    _zone_of,
    find_case,
    first_reached,
    inside,
    read_case,
    read_record,
)
from tests.helpers import CONFIG, ROOT

JUAN = CONFIG / "hindcast" / "juan_halifax_2003.toml"


@pytest.fixture(scope="module")
def gauge() -> GaugeCase:
    """Juan's gauge, read from a CSV of the test's own (columns t and v, in cm)."""
    shipped = read_case(JUAN).gauges[0]
    return shipped.model_copy(
        update={"time_column": "t", "value_column": "v", "metres_per_unit": 0.01}
    )


def test_a_shipped_case_reads_with_an_aware_window() -> None:
    case = read_case(JUAN)
    assert case.name == "juan-2003"
    assert case.start.tzinfo is not None
    assert case.start_s < case.end_s
    assert find_case("juan-2003", CONFIG) == (JUAN, case)
    assert find_case(str(JUAN), CONFIG)[1] == case


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (('from = "2003-09-25T00:00:00Z"', 'from = "2003-09-25T00:00:00"'), "need a time zone"),
        (('name = "juan-2003"', 'name = "Juan 2003"'), "name: String should match"),
        (('name = "juan-2003"', 'name = "juan-2003"\nextra = 1'), "extra: Extra inputs"),
    ],
)
def test_a_bad_case_file_names_the_field(
    tmp_path: Path, edit: tuple[str, str], problem: str
) -> None:
    text = JUAN.read_text(encoding="utf-8")
    assert edit[0] in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(HindcastError, match=problem) as err:
        read_case(bad)
    assert str(err.value).startswith(f"{bad}: ")


def test_a_missing_or_broken_case_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(HindcastError, match="no such case file"):
        read_case(tmp_path / "none.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[case\n")
    with pytest.raises(HindcastError, match="not valid TOML"):
        read_case(broken)
    with pytest.raises(HindcastError, match=r"no case 'atlantis'; shipped cases: .*juan-2003"):
        find_case("atlantis", CONFIG)


def test_a_window_lasts_at_most_60_days(tmp_path: Path) -> None:
    text = JUAN.read_text(encoding="utf-8")
    assert 'to = "2003-' in text
    bad = tmp_path / "long.toml"
    bad.write_text(text.replace('to = "2003-', 'to = "2004-', 1), encoding="utf-8")
    with pytest.raises(HindcastError, match="at most 60 days"):
        read_case(bad)


@pytest.mark.parametrize(
    ("relative", "problem"),
    [
        ("/etc/hosts", "not an absolute one"),
        ("../outside.csv", "leaves the repository"),
        ("reference/../../outside.csv", "leaves the repository"),
        ("reference/no-such-record.csv", "no such file"),
    ],
)
def test_a_named_file_stays_inside_the_repository(relative: str, problem: str) -> None:
    with pytest.raises(HindcastError, match=problem):
        inside(ROOT, relative, "file")


def test_a_named_file_inside_is_resolved() -> None:
    assert inside(ROOT, "reference/../README.md", "file") == ROOT / "README.md"


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("UTC", timedelta(0)),
        ("z", timedelta(0)),
        ("GMT", timedelta(0)),
        ("+01:00", timedelta(hours=1)),
        ("-03:30", timedelta(hours=-3, minutes=-30)),
        ("+08:00", timedelta(hours=8)),
    ],
)
def test_a_time_zone_is_utc_or_an_offset(text: str, offset: timedelta) -> None:
    assert _zone_of(text) == timezone(offset)


@pytest.mark.parametrize("text", ["CET", "Europe/Amsterdam", "+1", "+aa:00"])
def test_a_named_time_zone_is_refused(text: str) -> None:
    with pytest.raises(HindcastError, match="use UTC or an offset"):
        _zone_of(text)


def test_a_record_is_metres_utc_sorted_with_empty_cells_counted(
    tmp_path: Path, gauge: GaugeCase
) -> None:
    csv = tmp_path / "record.csv"
    csv.write_text(
        "\ufefft,v,other\n"  # a byte-order mark, as spreadsheets write
        "2003-09-29T02:00:00,150,x\n"
        "2003-09-29T00:00:00+00:00,100,x\n"
        "2003-09-29T01:00:00,,x\n"
        "2003-09-29T03:00:00-03:00,nan,x\n"
        "2003-09-29T04:00:00-03:00,200,x\n",
        encoding="utf-8",
    )
    local = gauge.model_copy(update={"time_zone": "-03:00"})
    record = read_record(csv, local)
    t0 = datetime(2003, 9, 29, tzinfo=UTC).timestamp()
    assert record.times_s.tolist() == [t0, t0 + 5 * 3600, t0 + 7 * 3600]  # 02:00 at -03:00 is 05Z
    assert record.values_m.tolist() == pytest.approx([1.0, 1.5, 2.0])
    assert record.skipped == 2


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ("t,w\n2003-09-29T00:00:00,1\n", "no column 'v'; the header has \\['t', 'w'\\]"),
        ("t,v\n2003-09-29T00:00:00,1\nyesterday,2\n", ":3: not a time and a number"),
        ("t,v\n2003-09-29T00:00:00,high\n", ":2: not a time and a number"),
    ],
)
def test_a_bad_record_names_the_file_and_line(
    tmp_path: Path, gauge: GaugeCase, rows: str, problem: str
) -> None:
    csv = tmp_path / "record.csv"
    csv.write_text(rows, encoding="utf-8")
    with pytest.raises(HindcastError, match=problem) as err:
        read_record(csv, gauge)
    assert str(err.value).startswith(gauge.file)


def test_first_reached_is_the_first_time_at_or_above_inside_the_window() -> None:
    record = Record(np.array([0.0, 10.0, 20.0, 30.0]), np.array([1.0, 2.0, 1.5, 3.0]), 0)
    assert first_reached(record, 2.0, 0.0, 30.0) == 10.0  # reaching it is enough
    assert first_reached(record, 2.0, 11.0, 30.0) == 30.0
    assert first_reached(record, 2.0, 11.0, 29.0) is None
    assert first_reached(record, 1.0, 20.0, 20.0) == 20.0  # both ends included
    assert first_reached(record, 9.0, 0.0, 30.0) is None
