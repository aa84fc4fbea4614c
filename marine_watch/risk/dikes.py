"""Overtopping of one dike segment under the current (or given) water level and waves."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from risk_models import levels, waves
from risk_models.overtopping import OutsideValidity, slope_discharge
from risk_models.overtopping_walls import overtopping_report, wall_discharge
from risk_models.types import Hazard
from sensors.catalogue import DikeSegment, HazardTable


@dataclass(frozen=True)
class SegmentDischarge:
    """q at a segment, in l/s per m, with the inputs that produced it."""

    q_lps: float
    freeboard_m: float
    hm0_m: float
    tm10_s: float
    formula: str
    validity: str

    def extra(self) -> dict[str, object]:
        """The overtopping figures behind the level, for the explanation."""
        return {
            "q_l_per_s_per_m": self.q_lps,
            "freeboard_m": round(self.freeboard_m, 3),
            "hm0_m": self.hm0_m,
            "tm10_s": round(self.tm10_s, 2),
            "formula": self.formula,
            "validity": self.validity,
        }


def segment_discharge(
    seg: DikeSegment, *, water_m: float, hm0_m: float, tp_s: float
) -> SegmentDischarge:
    """EurOtop 2018 design-approach discharge; overflow (water above crest) counts as red-level q.

    Raises OutsideValidity when the inputs are outside the formula's range for another reason.
    """
    tm10 = float(waves.tm10_from_tp(tp_s))
    freeboard = seg.crest_level_m - water_m
    if freeboard <= 0:
        return SegmentDischarge(
            float("inf"), freeboard, hm0_m, tm10, "overflow", "water above the crest"
        )
    report = overtopping_report(
        seg.structure,
        hm0_m,
        tm10,
        freeboard,
        cot_alpha=seg.cot_alpha if seg.structure == "sloping" else None,
        gamma_f=seg.gamma_f,
        depth_m=max(water_m - seg.toe_level_m, 0.01),
        use=seg.use,
    )
    return SegmentDischarge(
        1000.0 * report.q_m3s_per_m, freeboard, hm0_m, tm10, report.formula, report.validity
    )


def assess_segment(
    seg: DikeSegment,
    table: HazardTable,
    *,
    water_m: float,
    hm0_m: float,
    tp_s: float,
    peak_time_s: float | None = None,
) -> tuple[int, dict[str, object]]:
    """Level (0..4) of the segment's discharge against the colour table, and its explanation.

    Overflow (q infinite) is red; its q fields are null in the explanation (JSON has no infinity).
    Raises OutsideValidity like :func:`segment_discharge`.
    """
    result = segment_discharge(seg, water_m=water_m, hm0_m=hm0_m, tp_s=tp_s)
    level = int(levels.classify(np.array([result.q_lps]), table.thresholds())[0])
    exp = levels.explain(
        Hazard.OVERTOPPING, seg.id, result.q_lps, "l/s/m", table.thresholds(),
        peak_time_s=peak_time_s, datum="NVD1985", source=table.source, status=table.status,
    )  # fmt: skip
    body = {**exp.to_dict(), **result.extra()}
    if math.isinf(result.q_lps):
        body.update(value=None, q_l_per_s_per_m=None, overflow=True)
    return level, body


def segment_levels(
    seg: DikeSegment, table: HazardTable, water_m: np.ndarray, *, hm0_m: float, tp_s: float
) -> np.ndarray:
    """Levels of the segment at many water levels at once, as :func:`assess_segment` gives each.

    One vectorised EurOtop evaluation (the same equations, design approach, toe depth and overflow
    rule); raises OutsideValidity when any of them is outside the formula's range.
    """
    tm10 = float(waves.tm10_from_tp(tp_s))
    water = np.asarray(water_m, dtype=np.float64)
    freeboard = seg.crest_level_m - water
    q_lps = np.full(water.shape, np.inf)  # water at or above the crest: overflow, red
    below = freeboard > 0
    if below.any():
        rc = freeboard[below]
        if seg.structure == "sloping":
            q = slope_discharge(hm0_m, tm10, seg.cot_alpha, rc, gamma_f=seg.gamma_f).q_m3s_per_m
        else:
            depth = np.maximum(water[below] - seg.toe_level_m, 0.01)
            q = wall_discharge(hm0_m, tm10, rc, depth_m=depth).q_m3s_per_m
        q_lps[below] = 1000.0 * np.asarray(q, dtype=np.float64)
    return np.asarray(levels.classify(q_lps, table.thresholds()), dtype=np.int64)


__all__ = [
    "OutsideValidity",
    "SegmentDischarge",
    "assess_segment",
    "segment_discharge",
    "segment_levels",
]
