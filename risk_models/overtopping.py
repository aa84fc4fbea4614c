"""Wave overtopping and run-up of sloping dikes and rubble mounds: EurOtop (2018), 2nd edition.

Sources: EurOtop (2018) eqs. 5.4-5.5 (run-up), 5.10-5.13 (smooth slopes), 5.29/6.9 (obliquity),
6.5-6.7 (rough slopes), 5.40-5.42 (berms) and §5.3.4 (average slope), as summarised in
DOMAIN.md §4.2-4.3. Checked against the 68 Deltares toolbox cases in
reference/eurotop2018_reference_cases.csv. Rubble mounds, vertical and composite walls,
required freeboards, tolerable discharges and the report are in
:mod:`risk_models.overtopping_walls`.

Errors:

* ValueError
  * OutsideValidity   an input lies outside the range the formula was fitted for
"""

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from risk_models.types import FloatArray
from risk_models.waves import G_MPS2, breaker_parameter

ArrayLike = FloatArray | float

#: Weibull shape of the 2018 formulas (eqs. 5.10-5.13); TAW 2002 / EurOtop 2007 used 1.
EXPONENT = 1.3

COT_ALPHA_RANGE = (1.0, 10.0)  # slopes fitted on, about 1:1 to 1:10 (DOMAIN.md §4.3)
XI_MAX = 7.0  # above: very shallow foreshore, another formula (DOMAIN.md §4.2)
#: Breaker parameter above which eq. 6.7 relaxes the roughness factor.
XI_ROUGHNESS_RELAX = 5.0
GAMMA_F_RANGE = (0.3, 1.0)  # Table 6.2 runs down to 0.38 (Tetrapods)
GAMMA_B_RANGE = (0.6, 1.0)  # eq. 5.42
GAMMA_V_RANGE = (0.65, 1.0)  # §5.4.6, 0.65 for a vertical wall on the slope
#: Largest wave angle treated; beyond 80° the factor stays at its 80° value (eq. 5.29).
BETA_CAP_DEG = 80.0
#: γf at or below which a slope counts as rough (rubble mound) for obliquity (eq. 6.9).
GAMMA_F_ROUGH = 0.6
#: Obliquity coefficients per degree: overtopping smooth (5.29), rough (6.9); run-up smooth.
OBLIQUITY_SMOOTH = 0.0033
OBLIQUITY_ROUGH = 0.0063
OBLIQUITY_RUNUP_SMOOTH = 0.0022
SURGING_XI = (1.8, 10.0)  # run-up roughness relaxation band in γb·ξ (eq. 5.7, TAW 2002)
ITERATIONS = 60  # fixed-point steps for average slope and γb; converges in ~20


class OutsideValidity(ValueError):  # noqa: N818 (name fixed by the CLI contract, exit 2)
    """An input lies outside the validity range of the formula; the CLI exits with 2."""

    def __init__(self, parameter: str, value: float, valid_range: tuple[float, float]) -> None:
        self.parameter = parameter
        self.value = value
        self.valid_range = valid_range
        msg = f"{parameter} = {value:g} is outside the validity range {valid_range[0]:g}..{valid_range[1]:g}"
        super().__init__(msg)


class Mode(StrEnum):
    """EurOtop approach: mean value (prediction) or design and assessment (mean + 1σ)."""

    MEAN = "mean"
    DESIGN = "design"


@dataclass(frozen=True, slots=True)
class SlopeCoefficients:
    """q/√(gHm0³) = a/√tanα·γb·ξ·exp(-(b·Rc/(ξ·Hm0·γb·γf·γβ·γv))^1.3), max c·exp(-(d·Rc/(Hm0·γf·γβ·γ*))^1.3)."""

    a: float
    b: float
    c: float
    d: float


#: Mean value approach, eqs. 5.10/5.11; σ(a)=0.003, σ(b)=0.20, σ(c)=0.0135, σ(d)=0.15 (DOMAIN.md §4.2).
MEAN_SLOPE = SlopeCoefficients(a=0.023, b=2.7, c=0.09, d=1.5)
#: Design and assessment approach (mean + 1σ), eqs. 5.12/5.13 [X-CHECK].
DESIGN_SLOPE = SlopeCoefficients(a=0.026, b=2.5, c=0.1035, d=1.35)


@dataclass(frozen=True, slots=True)
class RunupCoefficients:
    """z2%/Hm0 = a·γb·γf·γβ·ξ, max e·γf,surging·γβ·(b - c/√ξ)."""

    a: float
    b: float
    c: float
    e: float


#: Run-up, mean value approach, EurOtop (2018) eqs. 5.1/5.2 [SRC S36].
MEAN_RUNUP = RunupCoefficients(a=1.65, b=4.0, c=1.5, e=1.0)
#: Run-up, design values as in the Deltares toolbox regression cases (its test file flags them
#: "check if correct"; reference/README.md). [RECALLED] against the manual.
DESIGN_RUNUP = RunupCoefficients(a=1.75, b=4.3, c=1.5, e=1.07)


@dataclass(frozen=True, slots=True)
class Discharge:
    """Mean overtopping discharge and how it was obtained; arrays broadcast from the inputs."""

    q_m3s_per_m: FloatArray
    xi: FloatArray  # breaker parameter ξm-1,0 on the (average) slope
    max_governs: npt.NDArray[np.bool_]  # the non-breaking maximum (5.11/5.13) is the smaller
    cot_alpha: FloatArray  # slope used (average slope for composite profiles)
    gamma_b: FloatArray


def check_range(name: str, values: ArrayLike, valid: tuple[float, float]) -> FloatArray:
    """Return ``values`` as float64, raising OutsideValidity if a finite value leaves ``valid``."""
    a = np.asarray(values, dtype=np.float64)
    bad = (a < valid[0]) | (a > valid[1])
    if np.any(bad):
        raise OutsideValidity(name, float(a[bad].flat[0]), valid)
    return a


def coefficients(mode: Mode | str) -> tuple[SlopeCoefficients, RunupCoefficients]:
    """Return the overtopping and run-up coefficients of ``mode``."""
    m = Mode(mode)
    return (DESIGN_SLOPE, DESIGN_RUNUP) if m == Mode.DESIGN else (MEAN_SLOPE, MEAN_RUNUP)


def gamma_beta(beta_deg: ArrayLike, gamma_f: ArrayLike = 1.0, *, runup: bool = False) -> FloatArray:
    """Influence factor for oblique waves γβ.

    Parameters
    ----------
    beta_deg : (...) angle between wave direction and dike normal, degrees (0..90).
    gamma_f : (...) roughness factor; γf ≤ 0.6 counts as a rough slope.
    runup : use the run-up coefficient (0.0022) for smooth slopes instead of 0.0033.

    Returns
    -------
    (...) γβ = 1 - c·min(|β|, 80°); c = 0.0033 smooth (eq. 5.29), 0.0063 rough (eq. 6.9).
    """
    beta = np.minimum(np.abs(check_range("beta_deg", beta_deg, (-90.0, 90.0))), BETA_CAP_DEG)
    smooth = OBLIQUITY_RUNUP_SMOOTH if runup else OBLIQUITY_SMOOTH
    coefficient = np.where(np.asarray(gamma_f) <= GAMMA_F_ROUGH, OBLIQUITY_ROUGH, smooth)
    return np.asarray(1.0 - coefficient * beta, dtype=np.float64)


def gamma_f_large_xi(gamma_f: ArrayLike, xi: ArrayLike) -> FloatArray:
    """Roughness factor relaxed for long waves on steep slopes, EurOtop (2018) eq. 6.7.

    Returns
    -------
    (...) γf + (ξ - 5)·(1 - γf)/5 where ξm-1,0 > 5, capped at 1; γf elsewhere.
    """
    gf = np.asarray(gamma_f, dtype=np.float64)
    relaxed = gf + (np.asarray(xi) - XI_ROUGHNESS_RELAX) * (1.0 - gf) / XI_ROUGHNESS_RELAX
    return np.where(np.asarray(xi) > XI_ROUGHNESS_RELAX, np.minimum(relaxed, 1.0), gf)


def gamma_f_surging(gamma_f: ArrayLike, gb_xi: ArrayLike) -> FloatArray:
    """Roughness factor for run-up in surging waves, EurOtop (2018) eq. 5.7 (TAW 2002).

    Returns
    -------
    (...) γf + (γb·ξ - 1.8)·(1 - γf)/8.2 for 1.8 ≤ γb·ξ ≤ 10; γf below; 1 above.
    """
    gf = np.asarray(gamma_f, dtype=np.float64)
    lo, hi = SURGING_XI
    x = np.asarray(gb_xi, dtype=np.float64)
    ramp = gf + (np.clip(x, lo, hi) - lo) * (1.0 - gf) / (hi - lo)
    return np.where(x > hi, 1.0, ramp)


def gamma_berm(
    hm0_m: ArrayLike, z2p_m: ArrayLike, db_m: ArrayLike, b_berm_m: ArrayLike, l_berm_m: ArrayLike
) -> FloatArray:
    """Influence factor of a berm γb, EurOtop (2018) eqs. 5.40-5.42.

    Parameters
    ----------
    hm0_m : (...) wave height at the toe, m.
    z2p_m : (...) 2 % run-up height, m (sets the reach of a berm above still water).
    db_m : (...) berm depth below still water, m (negative: berm above still water).
    b_berm_m, l_berm_m : (...) berm width and the length Hm0·cotαd + B + Hm0·cotαu, m.

    Returns
    -------
    (...) γb = 1 - B/Lberm·(1 - rdb), rdb = 0.5 - 0.5·cos(π·db/x), x = 2Hm0 (db ≥ 0) or z2%
    (db < 0); rdb = 1 beyond reach; clipped to 0.6..1; 1 without berm.
    """
    h, z, db, b = (np.asarray(v, dtype=np.float64) for v in (hm0_m, z2p_m, db_m, b_berm_m))
    x = np.where(db < 0, z, 2.0 * h)
    with np.errstate(divide="ignore", invalid="ignore"):
        rdb = np.where((db > 2.0 * h) | (db < -z), 1.0, 0.5 - 0.5 * np.cos(np.pi * db / x))
        gb = 1.0 - b / np.asarray(l_berm_m) * (1.0 - rdb)
    return np.where(b > 0, np.clip(gb, *GAMMA_B_RANGE), 1.0)


def _runup_m(  # noqa: PLR0917 - the symbols of EurOtop eqs. 5.1/5.2, in their order
    hm0: FloatArray,
    xi: FloatArray,
    gb: FloatArray,
    gf: FloatArray,
    gbeta: FloatArray,
    c: RunupCoefficients,
) -> FloatArray:
    """z2% on a slope of known ξ (eqs. 5.1/5.2 or their design form)."""
    gfs = gamma_f_surging(gf, gb * xi)
    breaking = c.a * gb * gfs * gbeta * xi
    surging = c.e * gfs * gbeta * (c.b - c.c / np.sqrt(xi))
    return np.asarray(np.minimum(breaking, surging) * hm0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Profile:
    """A dike profile: lower slope, optional berm, upper slope (cot α), berm depth below SWL."""

    cot_alpha_down: FloatArray
    cot_alpha_up: FloatArray
    b_berm_m: FloatArray
    db_m: FloatArray

    @classmethod
    def build(
        cls,
        cot_down: ArrayLike,
        cot_up: ArrayLike | None = None,
        b_berm_m: ArrayLike = 0.0,
        db_m: ArrayLike = 0.0,
    ) -> "Profile":
        """Check and store a profile; ``cot_up`` defaults to a straight slope."""
        down = check_range("cot_alpha", cot_down, COT_ALPHA_RANGE)
        up = down if cot_up is None else check_range("cot_alpha_up", cot_up, COT_ALPHA_RANGE)
        b = check_range("b_berm_m", b_berm_m, (0.0, math.inf))
        return cls(down, up, b, np.asarray(db_m, dtype=np.float64))


def slope_and_berm(  # noqa: PLR0917 - the inputs of the EurOtop §5.3.4 average-slope iteration
    hm0: FloatArray,
    tm10: FloatArray,
    p: Profile,
    gf: FloatArray,
    gbeta: FloatArray,
    c: RunupCoefficients,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Average slope (§5.3.4) and γb, iterated to a fixed point with z2%; returns (cot α, γb, z2%).

    The slope is taken between SWL - 1.5·Hm0 and SWL + z2%, without the berm; z2% itself
    depends on that slope and on γb, hence the iteration.
    """
    l_berm = hm0 * p.cot_alpha_down + p.b_berm_m + hm0 * p.cot_alpha_up
    lower = (1.5 * hm0 - p.db_m) * p.cot_alpha_down
    cot = (lower + (1.5 * hm0 + p.db_m) * p.cot_alpha_up) / (3.0 * hm0)
    gb = np.ones_like(cot)
    z = np.zeros_like(cot)
    for _ in range(ITERATIONS):
        z = _runup_m(hm0, breaker_parameter(1.0 / cot, hm0, tm10), gb, gf, gbeta, c)
        cot = (lower + (z + p.db_m) * p.cot_alpha_up) / (1.5 * hm0 + z)
        gb = gamma_berm(hm0, z, p.db_m, p.b_berm_m, l_berm)
    return cot, gb, z


def check_waves(hm0_m: ArrayLike, tm10_s: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return Hm0 (m) and Tm-1,0 (s) as float64, refusing values no formula was fitted on."""
    hm0 = check_range("hm0_m", hm0_m, (1e-3, 30.0))
    tm10 = check_range("tm10_s", tm10_s, (0.1, 40.0))
    return hm0, tm10


def check_xi(xi: FloatArray) -> FloatArray:
    """Refuse very shallow foreshores (ξ > 7), whose formula is not implemented (DOMAIN.md §4.2)."""
    return check_range("xi", xi, (0.0, XI_MAX))


def runup_2pct_m(
    hm0_m: ArrayLike,
    tm10_s: ArrayLike,
    profile: Profile,
    *,
    gamma_f: ArrayLike = 1.0,
    beta_deg: ArrayLike = 0.0,
    mode: Mode | str = Mode.DESIGN,
) -> FloatArray:
    """Wave run-up height exceeded by 2 % of the waves, z2%.

    Parameters
    ----------
    hm0_m, tm10_s : (...) wave height at the toe (m) and spectral period Tm-1,0 (s).
    profile : slopes, berm width and berm depth (:meth:`Profile.build`).
    gamma_f : (...) roughness factor (Table 6.2).
    beta_deg : (...) wave angle to the dike normal, degrees.
    mode : "mean" (eqs. 5.1/5.2) or "design".

    Returns
    -------
    (...) z2% above still water, m; average slope and γb iterated with z2% (§5.3.4).
    """
    hm0, tm10 = check_waves(hm0_m, tm10_s)
    gf = check_range("gamma_f", gamma_f, GAMMA_F_RANGE)
    gbeta = gamma_beta(beta_deg, gf, runup=True)
    _, runup = coefficients(mode)
    cot, gb, _ = slope_and_berm(hm0, tm10, profile, gf, gbeta, runup)
    xi = check_xi(breaker_parameter(1.0 / cot, hm0, tm10))
    return _runup_m(hm0, xi, gb, gf, gbeta, runup)


def slope_discharge(
    hm0_m: ArrayLike,
    tm10_s: ArrayLike,
    cot_alpha: ArrayLike,
    freeboard_m: ArrayLike,
    *,
    gamma_f: ArrayLike = 1.0,
    gamma_b: ArrayLike = 1.0,
    gamma_beta_: ArrayLike = 1.0,
    gamma_v: ArrayLike = 1.0,
    gamma_star: ArrayLike = 1.0,
    mode: Mode | str = Mode.DESIGN,
) -> Discharge:
    """Mean overtopping discharge of a sloping dike with given influence factors.

    Parameters
    ----------
    hm0_m : (...) spectral significant wave height at the toe, m.
    tm10_s : (...) spectral period Tm-1,0, s.
    cot_alpha : (...) cotangent of the (average) seaward slope, 1..10.
    freeboard_m : (...) crest freeboard Rc ≥ 0, m.
    gamma_f, gamma_b, gamma_beta_, gamma_v, gamma_star : (...) influence factors.
    mode : "mean" (eqs. 5.10/5.11) or "design" (5.12/5.13).

    Returns
    -------
    Discharge with q in m3/s per m: the smaller of the breaking and non-breaking formulas;
    γf relaxed by eq. 6.7 where ξ > 5. NaN inputs give NaN.

    Raises
    ------
    OutsideValidity
        For a slope, wave, freeboard or factor outside the fitted ranges, or ξ > 7.
    """
    hm0, tm10 = check_waves(hm0_m, tm10_s)
    cot = check_range("cot_alpha", cot_alpha, COT_ALPHA_RANGE)
    rc = check_range("freeboard_m", freeboard_m, (0.0, math.inf))
    gf = check_range("gamma_f", gamma_f, GAMMA_F_RANGE)
    gb = check_range("gamma_b", gamma_b, GAMMA_B_RANGE)
    gbeta = check_range("gamma_beta", gamma_beta_, (1.0 - OBLIQUITY_ROUGH * BETA_CAP_DEG, 1.0))
    gv = check_range("gamma_v", gamma_v, GAMMA_V_RANGE)
    gstar = check_range("gamma_star", gamma_star, (0.0, 1.0))
    c, _ = coefficients(mode)
    xi = check_xi(breaker_parameter(1.0 / cot, hm0, tm10))
    gf_xi = gamma_f_large_xi(gf, xi)
    rel = rc / hm0
    breaking = (
        c.a
        * np.sqrt(cot)
        * gb
        * xi
        * np.exp(-((c.b * rel / (xi * gb * gf_xi * gbeta * gv)) ** EXPONENT))
    )
    maximum = c.c * np.exp(-((c.d * rel / (gf_xi * gbeta * gstar)) ** EXPONENT))
    q = np.minimum(breaking, maximum) * np.sqrt(G_MPS2 * hm0**3)
    return Discharge(
        q, xi, maximum < breaking, np.broadcast_to(cot, q.shape), np.broadcast_to(gb, q.shape)
    )


def dike_discharge(
    hm0_m: ArrayLike,
    tm10_s: ArrayLike,
    profile: Profile,
    freeboard_m: ArrayLike,
    *,
    gamma_f: ArrayLike = 1.0,
    beta_deg: ArrayLike = 0.0,
    gamma_v: ArrayLike = 1.0,
    gamma_star: ArrayLike = 1.0,
    mode: Mode | str = Mode.DESIGN,
) -> Discharge:
    """Mean overtopping discharge of a dike profile (slopes, berm), EurOtop (2018) eqs. 5.10-5.13.

    Derives the average slope and γb from the profile (iterated with z2%, §5.3.4 and eqs.
    5.40-5.42) and γβ from ``beta_deg`` (eq. 5.29 smooth, 6.9 rough), then calls
    :func:`slope_discharge`. Shapes broadcast; q in m3/s per m.
    """
    hm0, tm10 = check_waves(hm0_m, tm10_s)
    gf = check_range("gamma_f", gamma_f, GAMMA_F_RANGE)
    _, runup = coefficients(mode)
    gbeta_runup = gamma_beta(beta_deg, gf, runup=True)
    cot, gb, _ = slope_and_berm(hm0, tm10, profile, gf, gbeta_runup, runup)
    return slope_discharge(
        hm0,
        tm10,
        cot,
        freeboard_m,
        gamma_f=gf,
        gamma_b=gb,
        gamma_beta_=gamma_beta(beta_deg, gf),
        gamma_v=gamma_v,
        gamma_star=gamma_star,
        mode=mode,
    )
