"""`marine-watch hindcast`: real storm records through the live pipeline (docs/HINDCAST.md).

The expected times come from the raw CSV records, read here with the csv module alone; the runs go
through the CLI entry point and the pipeline's own classes.
"""

from __future__ import annotations

import csv
import json
import re
import struct
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from marine_watch.cli import hindcast as hindcast_cli
from marine_watch.cli.main import main
from marine_watch.coast import load_catalogue
from marine_watch.hindcast import run as hindcast
from risk_models import tide
from tests.helpers import ROOT, num, obj, seq

CONFIG = ROOT / "config"
CASES = sorted((CONFIG / "hindcast").glob("*.toml"))
COLOURS = ("blue", "yellow", "orange", "red")


def case_doc(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def utc(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def raw_first_exceedance(gauge: dict[str, Any], start: str, end: str) -> dict[str, str | None]:
    """First time in [start, end] the record reached each level, straight from the CSV."""
    found: dict[str, str | None] = dict.fromkeys(COLOURS)
    with (ROOT / gauge["file"]).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cell = row[gauge["value_column"]].strip()
            when = row[gauge["time_column"]]
            if not cell or not utc(start) <= utc(when) <= utc(end):
                continue
            metres = float(cell) * gauge["metres_per_unit"]
            for colour in COLOURS:
                if found[colour] is None and metres >= gauge["thresholds_m"][colour]:
                    found[colour] = when
    return found


@pytest.fixture(scope="module")
def juan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Juan case run as the README says, with the default forecast (persistence)."""
    out = tmp_path_factory.mktemp("juan")
    assert main(["hindcast", "juan-2003", "--out", str(out)]) == 0
    return out


def test_list_shows_the_shipped_storms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hindcast", "--list"]) == 0
    text = capsys.readouterr().out
    for name, record in (
        ("juan-2003", "reference/tide_halifax_2003_hourly.csv"),
        ("vlissingen-2018", "reference/tide_vlissingen_2018q1_10min_matroos.csv"),
        ("hoekvanholland-1983", "reference/tide_hoekvanholland_1983-01_1984-01_hourly.csv"),
    ):
        assert name in text
        assert record in text
    assert "Hurricane Juan" in text


def test_juan_writes_summary_timeline_and_plot(juan: Path) -> None:
    summary = json.loads((juan / "summary.json").read_text(encoding="utf-8"))
    for key in ("case", "from", "to", "gauges", "alerts", "false_alarms", "missed", "forecast"):
        assert key in summary
    assert summary["case"] == "juan-2003"
    assert summary["forecast"] == "persistence"
    (g,) = summary["gauges"]
    assert g["file"] == "reference/tide_halifax_2003_hourly.csv"
    assert g["value_column"] == "sea_level_m_chart_datum"
    assert g["metres_per_unit"] == 1.0
    assert g["datum"] == "Chart Datum"
    assert set(g["thresholds_m"]) == set(COLOURS)
    for key in ("observed_exceedance", "first_raised", "lead_time_s"):
        assert set(g[key]) == set(COLOURS)
    with (ROOT / g["file"]).open(encoding="utf-8") as fh:
        inside = [
            r
            for r in csv.DictReader(fh)
            if utc(summary["from"]) <= utc(r["time_utc"]) <= utc(summary["to"])
            and r[g["value_column"]]
        ]
    assert summary["readings"] == len(inside) == 7 * 24 + 1  # every reading, both ends included
    assert summary["qc_flagged"] == 0
    assert g["observed_peak"] == {"time": "2003-09-29T04:00:00Z", "m": 2.84}

    with (juan / "timeline.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["time", "place", "tier", "colour", "hazard", "value", "threshold"]
    village = [r for r in rows if r["place"] == "halifax-shore"]
    assert {r["tier"] for r in village} == {"village"}
    assert "orange" in {r["colour"] for r in village}
    orange = next(r for r in village if r["colour"] == "orange")
    assert orange["hazard"] == "storm_surge"
    assert float(orange["value"]) >= float(orange["threshold"]) == 2.50

    png = (juan / "halifax.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1430, 792)  # 13 x 7.2 in at 110 dpi
    assert len(png) > 50_000  # curves, levels and the colour band, not an empty canvas


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_observed_exceedance_matches_the_raw_record(path: Path, tmp_path: Path) -> None:
    doc = case_doc(path)
    assert main(["hindcast", str(path), "--out", str(tmp_path), "--forecast", "observed"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    (gauge,) = doc["gauges"]
    expected = raw_first_exceedance(gauge, doc["case"]["from"], doc["case"]["to"])
    assert summary["gauges"][0]["observed_exceedance"] == expected
    assert summary["case_file"] == str(path.relative_to(ROOT))
    # observed only: the colour follows the water, so every colour is warned exactly when reached
    g = summary["gauges"][0]
    for colour in COLOURS:
        assert g["first_raised"][colour] == expected[colour]
        assert g["lead_time_s"][colour] == (None if expected[colour] is None else 0.0)
    assert summary["false_alarms"] == 0
    assert summary["missed"] == 0


def test_juan_reached_orange_but_not_red() -> None:
    doc = case_doc(CONFIG / "hindcast" / "juan_halifax_2003.toml")
    found = raw_first_exceedance(doc["gauges"][0], doc["case"]["from"], doc["case"]["to"])
    assert found == {
        "blue": "2003-09-28T13:00:00Z",
        "yellow": "2003-09-29T02:00:00Z",
        "orange": "2003-09-29T03:00:00Z",
        "red": None,
    }


def test_lead_times_are_consistent(juan: Path) -> None:
    """lead = reached − warned, the warning stood from then on, and every raise is accounted for."""
    summary = json.loads((juan / "summary.json").read_text(encoding="utf-8"))
    (g,) = summary["gauges"]
    with (juan / "timeline.csv").open(encoding="utf-8") as fh:
        village = [r for r in csv.DictReader(fh) if r["place"] == "halifax-shore"]
    rank = {"unknown": -1, "none": 0, **{c: i for i, c in enumerate(COLOURS, start=1)}}
    for level, colour in enumerate(COLOURS, start=1):
        seen, warned, lead = (
            g["observed_exceedance"][colour],
            g["first_raised"][colour],
            g["lead_time_s"][colour],
        )
        if seen is None or warned is None:
            assert lead is None
            continue
        assert lead == pytest.approx(utc(seen) - utc(warned))
        # the village's colour did not drop below this colour between the warning and the water
        shown = [r for r in village if utc(warned) <= utc(r["time"]) <= utc(seen)]
        assert shown, "a warning shows in the timeline when it is raised"
        assert all(rank[r["colour"]] >= level for r in shown)
    assert summary["alerts"] == len(g["raises"])
    assert summary["false_alarms"] == sum(not r["verified"] for r in g["raises"])
    # Juan came fast: persistence warned yellow before the water reached it, orange only as it did
    assert g["lead_time_s"]["yellow"] > 0
    assert g["lead_time_s"]["orange"] == 0.0
    assert g["first_raised"]["red"] is not None  # a red over-warning at the peak: a false alarm
    assert any(r["colour"] == "red" and not r["verified"] for r in g["raises"])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_levels_follow_the_rule_written_in_the_case(path: Path) -> None:
    doc = case_doc(path)
    (gauge,) = doc["gauges"]
    levels = gauge["thresholds_m"]
    assert levels["status"] == "SAMPLE"
    assert "MHHW + 0.30 m" in levels["rule"]
    constants = tide.TideConstants.from_dict(
        json.loads((ROOT / gauge["tide_constants"]).read_text(encoding="utf-8"))
    )
    year = int(doc["case"]["from"][:4])
    computed = hindcast.rule_thresholds(constants, year)
    for colour in COLOURS:
        assert abs(levels[colour] - computed[colour]) <= 0.0051, colour  # rounded to the cm
    assert gauge["official"] if "official" in gauge else gauge["official_note"]


def test_published_component_sets_are_copied_faithfully() -> None:
    """The Dutch cases predict with Rijkswaterstaat's sets, read from reference/ unchanged."""
    with (ROOT / "reference" / "harmonics_rws_vlissingen_hoekvanholland.csv").open(
        encoding="utf-8"
    ) as fh:
        rows = list(csv.DictReader(fh))
    for station, name in (
        ("VLISSGN", "vlissingen_rws_published.json"),
        ("HOEKVHLD", "hoekvanholland_rws_published.json"),
    ):
        doc = json.loads((CONFIG / "hindcast" / "tide_constants" / name).read_text("utf-8"))
        assert doc["convention"] == "rws"
        mine = {c["name"]: c for c in doc["constituents"]}
        theirs = [r for r in rows if r["station"] == station]
        a0 = next(r for r in theirs if r["constituent"] == "A0")
        assert doc["mean"] == pytest.approx(float(a0["amplitude_cm"]) / 100)
        theirs = [r for r in theirs if r["constituent"] != "A0"]
        assert len(mine) == len(theirs) == 94
        for r in theirs:
            assert mine[r["constituent"]]["amplitude"] == pytest.approx(
                float(r["amplitude_cm"]) / 100
            )
            assert mine[r["constituent"]]["phase"] == pytest.approx(float(r["phase_deg_ref_utc"]))


def test_a_case_file_cannot_reach_outside_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (CONFIG / "hindcast" / "juan_halifax_2003.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('"reference/tide_halifax', '"../../etc/tide_halifax'), "utf-8")
    assert main(["hindcast", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "leaves the repository" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

    bad.write_text(text.replace("red = 2.88", "red = 2.40"), "utf-8")
    assert main(["hindcast", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "must rise strictly" in capsys.readouterr().err

    assert main(["hindcast", "no-such-storm", "--out", str(tmp_path / "out")]) == 2
    assert "juan-2003" in capsys.readouterr().err  # it names the cases there are
    assert main(["hindcast", "juan-2003", "--out", str(tmp_path), "--tick", "1"]) == 2


def test_the_skill_tables_in_the_docs_are_what_the_pipeline_does_today() -> None:
    """docs/HINDCAST.md and BENCHMARKS.md carry the tables `hindcast --skill` prints."""
    base = load_catalogue(CONFIG)
    rows = hindcast_cli.skill_rows(CONFIG, base, ROOT, 600.0)
    table = hindcast_cli.skill_table(rows)
    for doc in ("docs/HINDCAST.md", "BENCHMARKS.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        for line in table.splitlines():
            if line.startswith("| "):
                assert line in text, f"{doc} lacks {line!r}"
    by = {(r["case"], r["forecast"]): r for r in rows}
    # the method the pipeline runs by default is the one the docs justify
    assert base.rules.surge_forecast == "persistence"
    for case in ("juan-2003", "vlissingen-2018", "hoekvanholland-1983"):
        for method in ("persistence", "trend"):
            g = obj(seq(by[(case, method)]["gauges"])[0])
            observed = obj(seq(by[(case, "observed")]["gauges"])[0])
            for colour in COLOURS:  # forecasting never warns later than watching the gauge
                if observed["lead_time_s"][colour] is not None:
                    assert g["lead_time_s"][colour] >= observed["lead_time_s"][colour]
    assert re.search(r"trend", (ROOT / "docs" / "WARNINGS.md").read_text(encoding="utf-8"))


def test_iso_times_are_utc_with_z() -> None:
    assert hindcast.iso(0.0) == "1970-01-01T00:00:00Z"
    assert hindcast.iso(None) is None


def test_the_run_follows_the_services_own_rules() -> None:
    """The hindcast takes its hold time from config/thresholds.toml like the service: holding a
    colour for a whole tidal cycle turns the 10-min record's up-and-down alerts into fewer."""
    base = load_catalogue(CONFIG)
    _, case = hindcast.find_case("vlissingen-2018", CONFIG)
    counts: dict[float, float] = {}
    for hold in (base.rules.hold_time_s, 13 * 3600.0):
        rules = base.rules.model_copy(update={"hold_time_s": hold})
        out = hindcast.run_sync(case, base.model_copy(update={"rules": rules}), ROOT, "observed")
        counts[hold] = num(hindcast.summary(out, "case")["alerts"])
    assert counts[base.rules.hold_time_s] == 18  # the skill table's observed row
    assert counts[13 * 3600.0] < counts[base.rules.hold_time_s]
