"""EurOtop (2018) overtopping: the 68 toolbox reference cases, vertical walls, validity, levels."""

import csv
import math

import numpy as np
import pytest

from risk_models.overtopping import (
    Mode,
    OutsideValidity,
    Profile,
    dike_discharge,
    gamma_berm,
    gamma_beta,
    gamma_f_large_xi,
    runup_2pct_m,
    slope_discharge,
)
from risk_models.overtopping_walls import (
    dike_freeboard_m,
    gamma_v_wall,
    overtopping_level,
    overtopping_report,
    rubble_mound_discharge,
    rubble_mound_freeboard_m,
    tolerable_q_lps_per_m,
    wall_discharge,
)
from risk_models.types import UNKNOWN
from tests.helpers import REFERENCE

SQRT_G_HM0_CUBED_2M = math.sqrt(9.81 * 2.0**3)  # 8.85889 m²/s for Hm0 = 2 m


def _cases() -> list[dict[str, str]]:
    with (REFERENCE / "eurotop2018_reference_cases.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


CASES = _cases()


def _compute(row: dict[str, str], mode: str) -> float:
    """Our value for one reference row, in the row's unit (q in l/s per m, Rc and z2% in m)."""
    v = {
        k: float(x)
        for k, x in row.items()
        if k.endswith(("_m", "_s", "_deg", "alpha_down", "alpha_up")) and x
    }
    v |= {k: float(row[k]) for k in ("gamma_f", "gamma_v")}
    profile = Profile.build(v["cot_alpha_down"], v["cot_alpha_up"], v["B_berm_m"], v["db_m"])
    waves = (v["Hm0_m"], v["Tm_1_0_s"])
    gf, beta = v["gamma_f"], v["beta_deg"]
    test = row["source_test"]
    if test == "test_q_backward":
        found = dike_discharge(
            *waves, profile, v["Rc_m"], gamma_v=v["gamma_v"], gamma_f=gf, beta_deg=beta, mode=mode
        )
        return 1000.0 * float(found.q_m3s_per_m)
    if test == "test_Rc_backward":
        q = float(row["q_input_m3_per_s_per_m"])
        return float(
            dike_freeboard_m(
                q, *waves, profile, gamma_v=v["gamma_v"], gamma_f=gf, beta_deg=beta, mode=mode
            )
        )
    if test == "test_q_RMB_backward":
        return 1000.0 * float(
            rubble_mound_discharge(v["Hm0_m"], v["Rc_m"], gamma_f=gf, beta_deg=beta, mode=mode)
        )
    if test == "test_Rc_RMB_backward":
        q = float(row["q_input_m3_per_s_per_m"])
        return float(rubble_mound_freeboard_m(q, v["Hm0_m"], gamma_f=gf, beta_deg=beta, mode=mode))
    return float(runup_2pct_m(*waves, profile, gamma_f=gf, beta_deg=beta, mode=mode))


@pytest.mark.parametrize("row", CASES, ids=[f"case{r['case_id']}-{r['quantity']}" for r in CASES])
def test_reference_case_design_within_1_percent(row: dict[str, str]) -> None:
    """Design values match the Deltares toolbox (and its asserted value) within 1 %."""
    ours = _compute(row, "design")
    assert ours == pytest.approx(float(row["toolbox_design_value"]), rel=0.01)
    assert ours == pytest.approx(
        float(row["expected_value"]), abs=float(row["asserted_tolerance_abs"])
    )


@pytest.mark.parametrize("row", CASES, ids=[f"case{r['case_id']}-{r['quantity']}" for r in CASES])
def test_reference_case_mean_value_within_1_percent(row: dict[str, str]) -> None:
    """Mean-value-approach values match the toolbox's best-fit column within 1 %."""
    assert _compute(row, "mean") == pytest.approx(
        float(row["toolbox_mean_value_approach"]), rel=0.01
    )


def test_reference_cases_are_all_68() -> None:
    """The reference file holds the 68 cases the validation is about."""
    assert len(CASES) == 68


def test_domain_worked_example_b_urban_seawall() -> None:
    """DOMAIN.md §4.6(b): Hm0 1.5 m, Tm-1,0 5.5 s, 1:3, Rc 3 m gives 13.37 (design) / 7.99 (mean) l/s/m."""
    design = slope_discharge(1.5, 5.5, 3.0, 3.0, mode=Mode.DESIGN)
    mean = slope_discharge(1.5, 5.5, 3.0, 3.0, mode=Mode.MEAN)
    assert 1000 * float(design.q_m3s_per_m) == pytest.approx(13.37, abs=0.01)
    assert not bool(design.max_governs)
    assert 1000 * float(mean.q_m3s_per_m) == pytest.approx(7.99, abs=0.01)
    assert bool(mean.max_governs)
    assert float(design.xi) == pytest.approx(1.8704, abs=1e-4)


def test_influence_factors() -> None:
    """γβ (5.29 / 6.9 / run-up), γf for ξ > 5 (6.7), γv and γb follow their equations."""
    assert float(gamma_beta(30.0, 1.0)) == pytest.approx(1 - 0.0033 * 30)
    assert float(gamma_beta(30.0, 0.45)) == pytest.approx(1 - 0.0063 * 30)
    assert float(gamma_beta(-85.0, 1.0)) == pytest.approx(0.736)
    assert float(gamma_beta(30.0, 1.0, runup=True)) == pytest.approx(1 - 0.0022 * 30)
    assert float(gamma_f_large_xi(0.5, 6.0)) == pytest.approx(0.5 + 1.0 * 0.5 / 5)
    assert float(gamma_f_large_xi(0.5, 4.0)) == 0.5
    assert float(gamma_f_large_xi(0.5, 20.0)) == 1.0
    assert float(gamma_v_wall(90.0)) == pytest.approx(0.648)
    # berm at SWL (rdb = 0), B = 2 m, Lberm = 2·3 + 2 + 2·3 = 14 m: γb = 1 - 2/14
    assert float(gamma_berm(2.0, 5.0, 0.0, 2.0, 14.0)) == pytest.approx(1 - 2 / 14)
    assert float(gamma_berm(2.0, 5.0, 5.0, 2.0, 14.0)) == 1.0  # deeper than 2·Hm0: no effect
    assert float(gamma_berm(2.0, 5.0, 0.0, 10.0, 14.0)) == 0.6  # clipped


def test_vertical_wall_deep_water_eq_7_1() -> None:
    """DOMAIN.md §4.6(c): Hm0 2 m, Rc 2 m gives 19.98 (mean) / 33.59 (design) l/s/m; Rc 3 m 2.43 / 5.32."""
    # mean: 0.047·exp(-(2.35·1)^1.3)·√(9.81·8) = 0.047·exp(-3.0366)·8.85889 = 0.019987
    mean = wall_discharge(2.0, 6.0, np.array([2.0, 3.0]), mode="mean")
    assert (1000 * mean.q_m3s_per_m).round(2).tolist() == [19.98, 2.43]
    assert mean.formula.tolist() == ["7.1", "7.1"]
    # design: 0.054·exp(-(2.12·1)^1.3)·8.85889 = 0.054·exp(-2.6561)·8.85889 = 0.033587
    design = wall_discharge(2.0, 6.0, np.array([2.0, 3.0]), mode="design")
    assert (1000 * design.q_m3s_per_m).round(2).tolist() == [33.59, 5.32]


L_6S = 9.81 * 36 / (2 * math.pi)  # Lm-1,0 = 56.2072 m for Tm-1,0 = 6 s
S_6S = 2.0 / L_6S  # sm-1,0 = 0.035583 for Hm0 = 2 m


def test_vertical_wall_non_impulsive_eq_7_5() -> None:
    """h = 6 m, Hm0 = 2 m: h/Hm0 = 3 and h²/(Hm0·L) = 36/112.41 = 0.320 ≥ 0.23, so eq. 7.5."""
    found = wall_discharge(2.0, 6.0, 2.0, depth_m=6.0, mode="mean")
    expected = 0.05 * math.exp(-2.78 * 1.0) * SQRT_G_HM0_CUBED_2M  # 0.05·0.062039·8.85889
    assert float(found.q_m3s_per_m) == pytest.approx(expected, rel=1e-9)
    assert float(found.q_m3s_per_m) == pytest.approx(0.027480, abs=1e-6)
    assert str(found.formula) == "7.5"


def test_vertical_wall_impulsive_low_and_high_freeboard() -> None:
    """h = 3 m: h²/(Hm0·L) = 9/112.41 = 0.080 < 0.23, impulsive; Rc/Hm0 1.0 → 7.7, 1.5 → 7.8."""
    root = math.sqrt(2.0 / (3.0 * S_6S))  # √(Hm0/(h·s)) = √18.735 = 4.3284
    found = wall_discharge(2.0, 6.0, np.array([2.0, 3.0]), depth_m=3.0, mode="mean")
    low = 0.011 * root * math.exp(-2.2 * 1.0) * SQRT_G_HM0_CUBED_2M  # 0.046736
    high = 0.0014 * root * 1.5**-3 * SQRT_G_HM0_CUBED_2M  # 0.015906
    assert found.q_m3s_per_m == pytest.approx([low, high], rel=1e-9)
    assert found.q_m3s_per_m == pytest.approx([0.046736, 0.015906], abs=2e-6)
    assert found.formula.tolist() == ["7.7", "7.8"]
    design = wall_discharge(2.0, 6.0, 3.0, depth_m=3.0, mode="design")
    assert float(design.q_m3s_per_m) == pytest.approx(high / 0.0014 * 0.0020, rel=1e-9)


def test_composite_wall_impulsive_eq_7_14() -> None:
    """d/h = 1.5/3 = 0.5 ≤ 0.6 and h·d/(Hm0·L) = 4.5/112.41 = 0.040 < 0.65: 7.7 × 1.3·√0.5."""
    root = math.sqrt(2.0 / (3.0 * S_6S))
    found = wall_discharge(2.0, 6.0, 2.0, depth_m=3.0, mound_depth_m=1.5, mode="mean")
    expected = 1.3 * math.sqrt(0.5) * 0.011 * root * math.exp(-2.2) * SQRT_G_HM0_CUBED_2M
    assert float(found.q_m3s_per_m) == pytest.approx(expected, rel=1e-9)
    assert str(found.formula) == "7.14"


@pytest.mark.parametrize(
    ("depth_m", "mound_depth_m", "freeboard_m", "formula"),
    [
        (8.0, None, 2.0, "7.5"),  # h/Hm0 = 4 exactly is not "> 4"
        (8.01, None, 2.0, "7.1"),
        (math.sqrt(0.23 * 2.0 * L_6S), None, 2.0, "7.5"),  # h²/(Hm0·L) = 0.23 is non-impulsive
        (math.sqrt(0.229 * 2.0 * L_6S), None, 2.0, "7.7"),
        (3.0, None, 2.7, "7.8"),  # Rc/Hm0 = 1.35 exactly: eq. 7.8
        (3.0, 1.8, 2.0, "7.14"),  # d/h = 0.6 exactly is composite
        (3.0, 1.81, 2.0, "7.7"),
        (6.0, 3.0, 2.0, "7.14"),  # composite, h·d/(Hm0·L) = 18/112.41 = 0.16 < 0.65
    ],
)
def test_decision_chart_boundaries(
    depth_m: float, mound_depth_m: float | None, freeboard_m: float, formula: str
) -> None:
    """The chart of DOMAIN.md §4.4 switches exactly at its published boundaries."""
    found = wall_discharge(2.0, 6.0, freeboard_m, depth_m=depth_m, mound_depth_m=mound_depth_m)
    assert str(found.formula) == formula


def test_composite_wall_non_impulsive_needs_steep_waves() -> None:
    """Tm-1,0 = 3 s (L = 14.05 m), h = 8 m, d = 4.8 m: h·d/(Hm0·L) = 38.4/28.1 = 1.37 ≥ 0.65, eq. 7.5."""
    found = wall_discharge(2.0, 3.0, 2.0, depth_m=8.0, mound_depth_m=4.8, mode="mean")
    assert str(found.formula) == "7.5"
    assert float(found.q_m3s_per_m) == pytest.approx(0.05 * math.exp(-2.78) * SQRT_G_HM0_CUBED_2M)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"cot_alpha": 0.5}, "cot_alpha"),
        ({"cot_alpha": 12.0}, "cot_alpha"),
        ({"gamma_f": 1.2}, "gamma_f"),
        ({"gamma_b": 0.4}, "gamma_b"),
        ({"gamma_v": 0.5}, "gamma_v"),
        ({"hm0_m": -1.0}, "hm0_m"),
        ({"freeboard_m": -0.5}, "freeboard_m"),
        ({"hm0_m": 0.2, "tm10_s": 20.0, "cot_alpha": 1.0}, "xi"),
    ],
)
def test_outside_validity_raises_with_parameter(kwargs: dict[str, float], parameter: str) -> None:
    """Inputs outside the fitted ranges raise OutsideValidity naming the parameter."""
    a = {"hm0_m": 2.0, "tm10_s": 5.0, "cot_alpha": 3.0, "freeboard_m": 2.0} | kwargs
    factors = {k: a.get(k, 1.0) for k in ("gamma_f", "gamma_b", "gamma_v")}
    with pytest.raises(OutsideValidity) as info:
        slope_discharge(
            a["hm0_m"],
            a["tm10_s"],
            a["cot_alpha"],
            a["freeboard_m"],
            gamma_f=factors["gamma_f"],
            gamma_b=factors["gamma_b"],
            gamma_v=factors["gamma_v"],
        )
    assert info.value.parameter == parameter
    assert isinstance(info.value, ValueError)
    assert parameter in str(info.value)


def test_nan_inputs_give_nan_discharge() -> None:
    """A missing wave height gives NaN, not 0."""
    found = slope_discharge(np.array([2.0, np.nan]), 5.0, 3.0, 2.0)
    assert np.isnan(found.q_m3s_per_m).tolist() == [False, True]


def test_tolerable_discharge_falls_with_wave_height() -> None:
    """People: 10 / 1 / 0.3 l/s/m at Hm0 1 / 2 / 3 m, log-interpolated between."""
    limits = tolerable_q_lps_per_m(np.array([0.5, 1.0, 1.5, 2.0, 3.0, 5.0]), "people")
    assert limits == pytest.approx([10.0, 10.0, math.sqrt(10.0), 1.0, 0.3, 0.3])


def test_overtopping_level_people_at_2m_is_the_domain_sample_table() -> None:
    """People at Hm0 = 2 m: bounds 0.1 / 1 / 5 / 20 l/s/m (DOMAIN.md §8 SAMPLE)."""
    q_lps = np.array([0.05, 0.1, 1.0, 4.99, 5.0, 20.0, np.nan])
    assert overtopping_level(q_lps / 1000, 2.0, "people").tolist() == [0, 1, 2, 2, 3, 4, UNKNOWN]
    assert overtopping_level(np.array([0.01]), np.array([np.nan]), "people").tolist() == [UNKNOWN]


def test_vehicles_tolerate_more_than_people() -> None:
    """10 l/s/m at Hm0 = 2 m is orange for people but yellow for vehicles."""
    assert overtopping_level(0.010, 2.0, "people") == 3
    assert overtopping_level(0.010, 2.0, "vehicles") == 2
    with pytest.raises(ValueError, match="use must be"):
        overtopping_level(0.01, 2.0, "boats")


def test_report_for_the_cli() -> None:
    """The report carries q, q in l/s/m, level, colour, ξ, equation, mode, validity and inputs."""
    report = overtopping_report("sloping", 1.5, 5.5, 3.0, cot_alpha=3.0, use="property").to_dict()
    assert report["q"] == pytest.approx(0.01337, abs=1e-5)
    assert report["q_l_per_s_per_m"] == pytest.approx(13.37, abs=0.01)
    assert (report["level"], report["colour"], report["formula"]) == (3, "orange", "5.12")
    assert report["mode"] == "design"
    assert report["validity"] == "ok"
    assert report["xi"] == pytest.approx(1.8704, abs=1e-4)
    assert report["inputs"] == {
        "hm0_m": 1.5, "tm10_s": 5.5, "freeboard_m": 3.0, "cot_alpha": 3.0, "gamma_v": 1.0,
        "gamma_f": 1.0, "gamma_b": 1.0, "gamma_beta": 1.0,
    }  # fmt: skip
    mean = overtopping_report("sloping", 1.5, 5.5, 3.0, cot_alpha=3.0, mode="mean").to_dict()
    assert mean["formula"] == "5.11"


def test_report_vertical_and_flags() -> None:
    """Vertical walls report eq. 7.1 in deep water; tiny q is 'negligible', gentle slopes 'extrapolated'."""
    wall = overtopping_report("vertical", 2.0, 6.0, 2.0).to_dict()
    assert (wall["formula"], wall["xi"]) == ("7.1", None)
    assert overtopping_report("sloping", 1.0, 5.0, 6.0, cot_alpha=3.0).validity == "negligible"
    gentle = overtopping_report("sloping", 2.0, 8.0, 2.0, cot_alpha=5.0)
    assert gentle.validity.startswith("extrapolated")
    with pytest.raises(ValueError, match="cot_alpha"):
        overtopping_report("sloping", 2.0, 6.0, 2.0)
