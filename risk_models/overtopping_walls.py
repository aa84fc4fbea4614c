"""Overtopping beyond the dike formulas: rubble mounds, walls, freeboards, tolerable discharges.

* rubble mounds, EurOtop (2018) eqs. 6.5/6.6, and the required freeboard of mounds and dikes;
* vertical and composite walls, EurOtop (2018) ch. 7, decision chart of DOMAIN.md §4.4;
* mapping q to a level per use (people, vehicles, property), DOMAIN.md §4.5 and §8 [SAMPLE];
* :func:`overtopping_report`, the pure core of ``marine-watch overtopping``.

Dike slopes, influence factors and run-up are in :mod:`risk_models.overtopping`.
"""

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from risk_models.levels import COLOUR_OF_CODE, classify
from risk_models.overtopping import (
    EXPONENT,
    GAMMA_F_RANGE,
    XI_ROUGHNESS_RELAX,
    ArrayLike,
    Mode,
    Profile,
    check_range,
    check_waves,
    coefficients,
    dike_discharge,
    gamma_beta,
    gamma_f_large_xi,
    slope_discharge,
)
from risk_models.types import FloatArray, IntArray
from risk_models.waves import G_MPS2, deep_water_wavelength_m, wave_steepness

#: γv = 1.35 - 0.0078·αwall. [RECALLED] EurOtop (2018) §5.4.6 via DOMAIN.md §4.3.
GAMMA_V_INTERCEPT = 1.35
GAMMA_V_PER_DEG = 0.0078


def gamma_v_wall(alpha_wall_deg: ArrayLike) -> FloatArray:
    """Influence factor γv (...) of a wall on a slope from its front angle (...) in 45..90 degrees."""
    angle = check_range("alpha_wall_deg", alpha_wall_deg, (45.0, 90.0))
    return GAMMA_V_INTERCEPT - GAMMA_V_PER_DEG * angle


def _freeboard_for(
    q_dimensionless: FloatArray, scale: FloatArray, coefficient: FloatArray, rate: float
) -> FloatArray:
    """Solve q* = coefficient·exp(-(rate·Rc/scale)^1.3) for Rc ≥ 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(coefficient / q_dimensionless)
    rc_m = scale / rate * np.maximum(log_ratio, 0.0) ** (1.0 / EXPONENT)
    return np.asarray(rc_m, dtype=np.float64)


def dike_freeboard_m(
    q_m3s_per_m: ArrayLike,
    hm0_m: ArrayLike,
    tm10_s: ArrayLike,
    profile: Profile,
    *,
    gamma_f: ArrayLike = 1.0,
    beta_deg: ArrayLike = 0.0,
    gamma_v: ArrayLike = 1.0,
    gamma_star: ArrayLike = 1.0,
    mode: Mode | str = Mode.DESIGN,
) -> FloatArray:
    """Crest freeboard Rc that limits the mean discharge to ``q_m3s_per_m`` (inverse of eqs. 5.10-5.13).

    Returns
    -------
    (...) Rc in m: the smaller of the freeboards the two formulas need, since q is their
    minimum; 0 where even Rc = 0 gives less than ``q``.
    """
    q = check_range("q_m3s_per_m", q_m3s_per_m, (1e-12, math.inf))
    at_zero = dike_discharge(
        hm0_m, tm10_s, profile, 0.0, gamma_f=gamma_f, beta_deg=beta_deg, gamma_v=gamma_v,
        gamma_star=gamma_star, mode=mode,
    )  # fmt: skip
    c, _ = coefficients(mode)
    hm0, xi, cot, gb = np.asarray(hm0_m), at_zero.xi, at_zero.cot_alpha, at_zero.gamma_b
    reduction = gamma_f_large_xi(gamma_f, xi) * gamma_beta(beta_deg, gamma_f)
    q_star = q / np.sqrt(G_MPS2 * hm0**3)
    scale = hm0 * reduction * np.asarray(gamma_v) * gb * xi
    rc_breaking = _freeboard_for(q_star, scale, c.a * np.sqrt(cot) * gb * xi, c.b)
    rc_maximum = _freeboard_for(
        q_star, hm0 * reduction * np.asarray(gamma_star), np.asarray(c.c), c.d
    )
    return np.minimum(rc_breaking, rc_maximum)


def rubble_mound_discharge(
    hm0_m: ArrayLike,
    freeboard_m: ArrayLike,
    *,
    gamma_f: ArrayLike,
    beta_deg: ArrayLike = 0.0,
    mode: Mode | str = Mode.DESIGN,
) -> FloatArray:
    """Mean discharge (...) over a rubble mound, m3/s per m: EurOtop (2018) eq. 6.5 / 6.6 (design).

    q = c·exp(-(d·Rc/(Hm0·γf·γβ))^1.3)·√(gHm0³), c and d of eqs. 5.11/5.13, γβ of eq. 6.9.
    """
    hm0 = check_range("hm0_m", hm0_m, (1e-3, 30.0))
    rc = check_range("freeboard_m", freeboard_m, (0.0, math.inf))
    gf = check_range("gamma_f", gamma_f, GAMMA_F_RANGE)
    c, _ = coefficients(mode)
    rel = rc / (hm0 * gf * gamma_beta(beta_deg, gf))
    q = c.c * np.exp(-((c.d * rel) ** EXPONENT)) * np.sqrt(G_MPS2 * hm0**3)
    return np.asarray(q, dtype=np.float64)


def rubble_mound_freeboard_m(
    q_m3s_per_m: ArrayLike,
    hm0_m: ArrayLike,
    *,
    gamma_f: ArrayLike,
    beta_deg: ArrayLike = 0.0,
    mode: Mode | str = Mode.DESIGN,
) -> FloatArray:
    """Crest freeboard of a rubble mound for a mean discharge ``q_m3s_per_m`` (inverse of eq. 6.5/6.6), m."""
    q = check_range("q_m3s_per_m", q_m3s_per_m, (1e-12, math.inf))
    hm0 = check_range("hm0_m", hm0_m, (1e-3, 30.0))
    gf = check_range("gamma_f", gamma_f, GAMMA_F_RANGE)
    c, _ = coefficients(mode)
    scale = hm0 * gf * gamma_beta(beta_deg, gf)
    return _freeboard_for(q / np.sqrt(G_MPS2 * hm0**3), scale, np.asarray(c.c), c.d)


@dataclass(frozen=True, slots=True)
class WallCoefficients:
    """Coefficients of the vertical-wall formulas, mean value or design (mean + 1σ)."""

    deep: tuple[float, float]  # eq. 7.1: a·exp(-(b·Rc/Hm0)^1.3)
    non_impulsive: tuple[float, float]  # eq. 7.5: a·exp(-b·Rc/Hm0)
    impulsive_low: tuple[float, float]  # eq. 7.7: a·(Hm0/(h·s))^0.5·exp(-b·Rc/Hm0)
    impulsive_high: float  # eq. 7.8: a·(Hm0/(h·s))^0.5·(Rc/Hm0)^-3


#: Mean values, EurOtop (2018) eqs. 7.1, 7.5, 7.7, 7.8 [SRC S36, DOMAIN.md §4.4].
MEAN_WALL = WallCoefficients((0.047, 2.35), (0.05, 2.78), (0.011, 2.2), 0.0014)
#: Design values, mean + 1σ with σ = 0.007/0.23, 0.012/0.17, 0.0045, 0.0006 [SRC S36].
DESIGN_WALL = WallCoefficients((0.054, 2.12), (0.062, 2.61), (0.0155, 2.2), 0.0020)

DEEP_H_OVER_HM0 = 4.0  # h/Hm0 above: no foreshore influence (Fig. 7.2)
COMPOSITE_D_OVER_H = 0.6  # d/h at or below: composite wall on a mound
IMPULSIVE_VERTICAL = 0.23  # h²/(Hm0·Lm-1,0) below: impulsive at a plain vertical wall
IMPULSIVE_COMPOSITE = 0.65  # h·d/(Hm0·Lm-1,0) below: impulsive at a composite wall
LOW_FREEBOARD = 1.35  # Rc/Hm0 below: eq. 7.7, else eq. 7.8
COMPOSITE_FACTOR = 1.3  # eqs. 7.14/7.15: multiply 7.7/7.8 by 1.3·(d/h)^0.5


@dataclass(frozen=True, slots=True)
class WallDischarge:
    """Mean discharge at a vertical or composite wall and the equation used per element."""

    q_m3s_per_m: FloatArray
    formula: npt.NDArray[np.str_]  # "7.1", "7.5", "7.7", "7.8", "7.14" or "7.15"


def wall_discharge(
    hm0_m: ArrayLike,
    tm10_s: ArrayLike,
    freeboard_m: ArrayLike,
    *,
    depth_m: ArrayLike = math.inf,
    mound_depth_m: ArrayLike | None = None,
    mode: Mode | str = Mode.DESIGN,
) -> WallDischarge:
    """Mean overtopping discharge at a vertical or composite wall, EurOtop (2018) ch. 7.

    Parameters
    ----------
    hm0_m, tm10_s : (...) wave height at the toe (m) and period Tm-1,0 (s).
    freeboard_m : (...) crest freeboard Rc ≥ 0, m.
    depth_m : (...) water depth h at the toe of the mound or wall, m; inf means deep water.
    mound_depth_m : (...) depth d above the mound of a composite wall, m; None: d = h.
    mode : "mean" or "design" (mean + 1σ).

    Returns
    -------
    WallDischarge, q in m3/s per m, chosen by the decision chart of DOMAIN.md §4.4:
    h/Hm0 > 4 gives eq. 7.1; a plain wall (d/h > 0.6) is impulsive when h²/(Hm0·L) < 0.23;
    a composite wall when h·d/(Hm0·L) < 0.65 (7.7/7.8 times 1.3·√(d/h)); else eq. 7.5.
    """
    hm0, tm10 = check_waves(hm0_m, tm10_s)
    rc = check_range("freeboard_m", freeboard_m, (0.0, math.inf))
    h = check_range("depth_m", depth_m, (1e-3, math.inf))
    d = h if mound_depth_m is None else check_range("mound_depth_m", mound_depth_m, (0.0, math.inf))
    if np.any(d > h):
        msg = "mound_depth_m must not exceed depth_m"
        raise ValueError(msg)
    c = DESIGN_WALL if Mode(mode) == Mode.DESIGN else MEAN_WALL
    rel = rc / hm0
    length = deep_water_wavelength_m(tm10)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        impulsiveness = np.sqrt(hm0 / (h * wave_steepness(hm0, tm10)))
        low = c.impulsive_low[0] * impulsiveness * np.exp(-c.impulsive_low[1] * rel)
        high = c.impulsive_high * impulsiveness * rel**-3.0
        composite = np.where(np.isfinite(h), d / h, 1.0)
        plain = composite > COMPOSITE_D_OVER_H
        impulsive = np.where(
            plain,
            h**2 / (hm0 * length) < IMPULSIVE_VERTICAL,
            h * d / (hm0 * length) < IMPULSIVE_COMPOSITE,
        )
    factor = np.where(plain, 1.0, COMPOSITE_FACTOR * np.sqrt(composite))
    deep, is_low = h / hm0 > DEEP_H_OVER_HM0, rel < LOW_FREEBOARD
    conditions = [deep, ~impulsive, is_low, np.full_like(deep, fill_value=True)]
    q_star = np.select(
        conditions,
        [
            c.deep[0] * np.exp(-((c.deep[1] * rel) ** EXPONENT)),
            c.non_impulsive[0] * np.exp(-c.non_impulsive[1] * rel),
            factor * low,
            factor * high,
        ],
    )
    impulsive_names = [np.where(plain, "7.7", "7.14"), np.where(plain, "7.8", "7.15")]
    formula = np.select(conditions, ["7.1", "7.5", *impulsive_names], default="")
    return WallDischarge(q_star * np.sqrt(G_MPS2 * hm0**3), formula)


class Use(StrEnum):
    """What stands behind the crest (EurOtop 2018 ch. 3 receptors)."""

    PEOPLE = "people"
    VEHICLES = "vehicles"
    PROPERTY = "property"


#: Tolerable mean discharge (l/s per m) against Hm0 (m) per use. [RECALLED] EurOtop (2018)
#: ch. 3 via DOMAIN.md §4.5 (people 10-20/1/0.3 at Hm0 1/2/3 m; cars 75/10-20/5; building
#: elements 1), lower ends of ranges; interpolated log-linearly, held constant outside.
TOLERABLE_LPS_PER_M: dict[Use, tuple[tuple[float, ...], tuple[float, ...]]] = {
    Use.PEOPLE: ((1.0, 2.0, 3.0), (10.0, 1.0, 0.3)),
    Use.VEHICLES: ((1.0, 2.0, 3.0), (75.0, 10.0, 5.0)),
    Use.PROPERTY: ((1.0, 3.0), (1.0, 1.0)),
}

#: Colour bounds blue..red as multiples of the tolerable discharge. [SAMPLE] chosen so that
#: people at Hm0 = 2 m get DOMAIN.md §8 colour_q_lps_per_m = 0.1 / 1 / 5 / 20.
COLOUR_FACTORS = (0.1, 1.0, 5.0, 20.0)


def tolerable_q_lps_per_m(hm0_m: ArrayLike, use: Use | str) -> FloatArray:
    """Tolerable mean discharge for ``use`` at wave height ``hm0_m`` (l/s per m) [RECALLED]."""
    try:
        hm0_table, limits = TOLERABLE_LPS_PER_M[Use(use)]
    except ValueError:
        msg = f"use must be one of {[u.value for u in Use]}, got {use!r}"
        raise ValueError(msg) from None
    hm0 = np.asarray(hm0_m, dtype=np.float64)
    return np.asarray(10.0 ** np.interp(hm0, hm0_table, np.log10(limits)), dtype=np.float64)


def overtopping_level(
    q_m3s_per_m: ArrayLike, hm0_m: ArrayLike, use: Use | str = Use.PEOPLE
) -> IntArray:
    """Warning level from mean overtopping discharge, per use and wave height.

    Parameters
    ----------
    q_m3s_per_m : (...) mean discharge, m3/s per m (design value recommended, DOMAIN.md §8).
    hm0_m : (...) wave height at the toe, m (the tolerable limit falls as Hm0 rises).
    use : "people", "vehicles" or "property".

    Returns
    -------
    (...) int8 levels 0..4 against bounds COLOUR_FACTORS × tolerable q [SAMPLE];
    UNKNOWN (-1) where q or Hm0 is NaN.
    """
    q_lps = 1000.0 * np.asarray(q_m3s_per_m, dtype=np.float64)
    limit = tolerable_q_lps_per_m(hm0_m, use)
    bounds = limit[..., np.newaxis] * np.asarray(COLOUR_FACTORS)
    shape = np.broadcast_shapes(q_lps.shape, limit.shape)
    return classify(np.broadcast_to(q_lps, shape), np.broadcast_to(bounds, (*shape, 4)))


class Structure(StrEnum):
    """Structure types of :func:`overtopping_report`."""

    SLOPING = "sloping"
    VERTICAL = "vertical"


GENTLE_COT_ALPHA = 4.0  # beyond: "extrapolated" (DOMAIN.md §4.3, toolbox issue #42)
HIGH_RELATIVE_FREEBOARD = 3.5  # Rc/Hm0 beyond: "extrapolated" (DOMAIN.md §4.3)
#: q/√(gHm0³) below which the discharge is "negligible" rather than a precise number [SRC S36].
NEGLIGIBLE_Q_STAR = 1e-5
_SLOPE_EQUATIONS = {Mode.MEAN: ("5.10", "5.11"), Mode.DESIGN: ("5.12", "5.13")}


@dataclass(frozen=True, slots=True)
class OvertoppingReport:
    """One overtopping assessment, as printed by ``marine-watch overtopping --json``."""

    structure: Structure
    mode: Mode
    use: Use
    inputs: dict[str, float | None]
    q_m3s_per_m: float
    level: int
    xi: float | None
    formula: str
    validity: str  # "ok", "extrapolated: <reason>" or "negligible"

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready report (q in m3/s per m and in l/s per m)."""
        return {
            "structure": self.structure.value,
            "q": self.q_m3s_per_m,
            "q_l_per_s_per_m": 1000.0 * self.q_m3s_per_m,
            "level": self.level,
            "colour": COLOUR_OF_CODE[self.level + 1],
            "xi": self.xi,
            "formula": self.formula,
            "mode": self.mode.value,
            "use": self.use.value,
            "validity": self.validity,
            "inputs": dict(self.inputs),
        }


def _validity(
    q_star: float, rel_freeboard: float, cot_alpha: float | None, xi: float | None
) -> str:
    if q_star < NEGLIGIBLE_Q_STAR:
        return "negligible"
    reasons = []
    if cot_alpha is not None and cot_alpha > GENTLE_COT_ALPHA:
        reasons.append(f"cot_alpha > {GENTLE_COT_ALPHA:g}")
    if rel_freeboard > HIGH_RELATIVE_FREEBOARD:
        reasons.append(f"Rc/Hm0 > {HIGH_RELATIVE_FREEBOARD:g}")
    if xi is not None and xi > XI_ROUGHNESS_RELAX:
        reasons.append(f"xi > {XI_ROUGHNESS_RELAX:g}")
    return "extrapolated: " + ", ".join(reasons) if reasons else "ok"


def overtopping_report(
    structure: Structure | str,
    hm0_m: float,
    tm10_s: float,
    freeboard_m: float,
    *,
    cot_alpha: float | None = None,
    gamma_f: float = 1.0,
    gamma_b: float = 1.0,
    gamma_beta_: float = 1.0,
    gamma_v: float = 1.0,
    depth_m: float | None = None,
    mode: Mode | str = Mode.DESIGN,
    use: Use | str = Use.PEOPLE,
) -> OvertoppingReport:
    """Assess one structure: discharge, level and colour, equation and validity.

    Parameters
    ----------
    structure : "sloping" (EurOtop eqs. 5.10-5.13, needs ``cot_alpha``) or "vertical" (ch. 7).
    hm0_m, tm10_s, freeboard_m : wave height at the toe (m), Tm-1,0 (s), crest freeboard (m).
    cot_alpha : seaward slope of a sloping structure.
    gamma_f, gamma_b, gamma_beta_, gamma_v : influence factors (sloping only).
    depth_m : water depth at the toe of a vertical wall, m; None means deep water (eq. 7.1).
    mode, use : EurOtop approach and what stands behind the crest.

    Raises
    ------
    OutsideValidity
        If an input is outside the range of the formula (the CLI exits with 2).
    """
    kind, m, u = Structure(structure), Mode(mode), Use(use)
    inputs: dict[str, float | None] = {"hm0_m": hm0_m, "tm10_s": tm10_s, "freeboard_m": freeboard_m}
    xi: float | None = None
    if kind == Structure.SLOPING:
        if cot_alpha is None:
            msg = "a sloping structure needs cot_alpha"
            raise ValueError(msg)
        found = slope_discharge(
            hm0_m, tm10_s, cot_alpha, freeboard_m, gamma_f=gamma_f, gamma_b=gamma_b,
            gamma_beta_=gamma_beta_, gamma_v=gamma_v, mode=m,
        )  # fmt: skip
        q, xi = float(found.q_m3s_per_m), float(found.xi)
        formula = _SLOPE_EQUATIONS[m][int(bool(found.max_governs))]
        factors = {"gamma_f": gamma_f, "gamma_b": gamma_b, "gamma_beta": gamma_beta_}
        inputs |= {"cot_alpha": cot_alpha, "gamma_v": gamma_v, **factors}
    else:
        wall = wall_discharge(
            hm0_m, tm10_s, freeboard_m, depth_m=math.inf if depth_m is None else depth_m, mode=m
        )
        q, formula = float(wall.q_m3s_per_m), str(wall.formula)
        inputs |= {"depth_m": depth_m}
    q_star = q / math.sqrt(G_MPS2 * hm0_m**3)
    level = int(overtopping_level(np.asarray(q), np.asarray(hm0_m), u))
    validity = _validity(
        q_star, freeboard_m / hm0_m, cot_alpha if kind == Structure.SLOPING else None, xi
    )
    return OvertoppingReport(kind, m, u, inputs, q, level, xi, formula, validity)
