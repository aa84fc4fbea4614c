"""Overtopping of a dike segment: EurOtop 2018 discharge, its colour, and overflow."""

import math

import pytest

from marine_watch.coast import load_catalogue
from marine_watch.risk.dikes import assess_segment, segment_discharge
from sensors.catalogue import Catalogue, DikeSegment
from tests.helpers import CONFIG


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CONFIG)


def _segment(catalogue: Catalogue, seg_id: str) -> DikeSegment:
    return next(s for s in catalogue.segments if s.id == seg_id)


def _level(q: float, catalogue: Catalogue) -> int:
    t = catalogue.rules.overtopping_lps_per_m.thresholds()
    bounds = (t.blue, t.yellow, t.orange, t.red)
    return sum(q >= b for b in bounds)


@pytest.mark.parametrize("seg_id", ["d-huangshan", "d-zhapu"])  # sloping and vertical
def test_discharge_rises_with_the_water_and_the_colour_follows_the_table(
    catalogue: Catalogue, seg_id: str
) -> None:
    """Higher water (less freeboard) means more overtopping; the level is the SAMPLE table's."""
    seg = _segment(catalogue, seg_id)
    table = catalogue.rules.overtopping_lps_per_m
    qs, levels = [], []
    for water in (3.0, 4.5, 6.0, 7.0, 7.8):
        q = segment_discharge(seg, water_m=water, hm0_m=1.0, tp_s=7.0).q_lps
        level, body = assess_segment(seg, table, water_m=water, hm0_m=1.0, tp_s=7.0)
        assert body["value"] == pytest.approx(q)
        assert body["freeboard_m"] == pytest.approx(seg.crest_level_m - water, abs=1e-3)
        assert body["status"] == "SAMPLE"
        assert body["source"] == table.source
        assert level == _level(q, catalogue)
        qs.append(q)
        levels.append(level)
    assert qs == sorted(qs)
    assert qs[0] < qs[-1]
    assert levels == sorted(levels)
    assert levels[0] < levels[-1]  # the range spans more than one colour


def test_water_above_the_crest_is_overflow_and_red(catalogue: Catalogue) -> None:
    """Overflow: q is infinite, the answer carries null q fields (JSON has no infinity)."""
    seg = _segment(catalogue, "d-tianfei")
    result = segment_discharge(seg, water_m=seg.crest_level_m + 0.2, hm0_m=1.0, tp_s=7.0)
    assert math.isinf(result.q_lps)
    assert result.formula == "overflow"
    level, body = assess_segment(
        seg,
        catalogue.rules.overtopping_lps_per_m,
        water_m=seg.crest_level_m + 0.2,
        hm0_m=1.0,
        tp_s=7.0,
        peak_time_s=1_800_000_000.0,
    )
    assert level == 4
    assert body["overflow"] is True
    assert body["value"] is None
    assert body["q_l_per_s_per_m"] is None
    assert body["peak_time_s"] == 1_800_000_000.0
    assert body["freeboard_m"] == pytest.approx(-0.2)
