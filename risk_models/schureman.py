"""Schureman's nodal corrections and arguments, and the Rijkswaterstaat (RWS) convention.

Schureman (1958), "Manual of harmonic analysis and prediction of tides", US Coast and Geodetic
Survey Special Publication 98: the nodal factor f and angle u of a constituent are closed-form
functions of the inclination I of the lunar orbit to the equator and of the angles xi, nu, nu',
2nu'', Q_u and R (eqs. 73-79, 191-235, astronomical constants p. 162). Rijkswaterstaat predicts
the Dutch tide with these, damping some nodal factors by its "x-factors" (`RWS_X_FACTORS`); its
published component sets (e.g. Vlissingen and Hoek van Holland, analysed 2009-2012) only reproduce
the official prediction in that convention. Deltares/hatyan implements the same method.

The mean longitudes are Schureman's (Table 1, taken in universal time); the moon's runs about
0.015 degrees ahead of the Explanatory Supplement's that the Foreman convention uses, which moves
M2 by 0.03 degrees (1 mm on a 1.75 m M2). Tables: `risk_models.schureman_data`.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from risk_models.schureman_data import _BASE_TABLE, _COMPOUND_TABLE, RWS_X_FACTORS
from risk_models.types import FloatArray

ComplexArray = npt.NDArray[np.complex128]

__all__ = ["RWS_X_FACTORS", "SchuremanTable", "astronomical_arguments", "nodal_grid", "table"]

_U_TERMS = ("xi", "nu", "Qu", "R", "nuK1", "nuK2")
_F_TERMS = ("1", "73", "74", "75", "76", "77", "78", "79", "M1", "K1", "L2", "K2", "M1C")
#: Schureman p. 162: obliquity of the ecliptic and inclination of the lunar orbit (epoch 1900),
#: eccentricity of the lunar orbit, mass ratios, and mean parallaxes of moon and sun.
_OMEGA = np.deg2rad(23.0 + 27.0 / 60.0 + 8.26 / 3600.0)
_INCL = np.deg2rad(5.0 + 8.0 / 60.0 + 43.3546 / 3600.0)
_E_MOON = 0.054900489
_MOON_OVER_EARTH = 1.0 / 81.53
_SUN_OVER_EARTH = 82.53 / 81.53 * 327932.0
_PARALLAX_MOON = 0.01657
_PARALLAX_SUN = 0.00004261
_DAYS_1900_TO_1970 = 25567.0  # 1900-01-01 00:00 to 1970-01-01 00:00, days
#: Schureman Table 1 (radians; powers of T, Julian centuries since 1899-12-31 12:00 UT):
#: mean longitudes of the moon s, the sun h, the lunar perigee p, the lunar node N, the solar
#: perigee p1.
_LONGITUDES_RAD = (
    (4.7200089, 8399.7092745, 0.0000346),
    (4.8816280, 628.3319500, 0.0000052),
    (5.8351526, 71.0180412, -0.0001801),
    (4.5236016, -33.7571463, 0.0000363),
    (4.9082295, 0.0300053, 0.0000079),
)


@dataclass(frozen=True)
class SchuremanTable:
    """Parsed table: rows are the base constituents, then the compounds."""

    names: tuple[str, ...]
    index: dict[str, int]
    doodson: FloatArray  # (k, 6) tau, s, h, p, N', p' as in `risk_models.constituents`
    offset_cycles: FloatArray  # (k,)
    u_coef: FloatArray  # (k, len(_U_TERMS))
    f_power: FloatArray  # (k, len(_F_TERMS))


def _solar_to_lunar(solar: list[float], extra_deg: float) -> tuple[list[float], float]:
    """Schureman's (T, S, H, P, P1) with T = mean-sun hour angle + 180 deg -> (tau, s, h, p, N', p').

    T = tau - h + s + 1/2 cycle, so each T adds one tau and one s, removes one h and shifts the
    phase by half a cycle.
    """
    t, s, h, p, p1 = solar
    return [t, s + t, h - t, p, 0.0, p1], extra_deg / 360.0 + 0.5 * t


def _terms(text: str, vocabulary: tuple[str, ...]) -> list[float]:
    row = [0.0] * len(vocabulary)
    if text != "-":
        for term in text.split(","):
            name, coefficient = term.split("*")
            row[vocabulary.index(name)] += float(coefficient)
    return row


@cache
def table() -> SchuremanTable:
    """The parsed Schureman / RWS table (cached)."""
    base_rows = [line.split() for line in _BASE_TABLE.strip().splitlines()]
    compounds = [line.split() for line in _COMPOUND_TABLE.strip().splitlines()]
    names = (*(r[0] for r in base_rows), *(c[0] for c in compounds))
    index = {name: i for i, name in enumerate(names)}
    n_base = len(base_rows)
    doodson, offset, u_coef, f_power = [], [], [], []
    for r in base_rows:
        lunar, off = _solar_to_lunar([float(x) for x in r[1:6]], float(r[6]))
        doodson.append(lunar)
        offset.append(off)
        u_coef.append(_terms(r[7], _U_TERMS))
        f_name, _, power = r[8].partition("^")
        f_row = [0.0] * len(_F_TERMS)
        f_row[_F_TERMS.index(f_name)] = float(power or 1.0)
        f_power.append(f_row)
    mix = np.zeros((len(compounds), n_base))
    for i, (_, *terms) in enumerate(compounds):
        for term in terms:
            parent, coefficient = term.split("*")
            mix[i, index[parent]] += float(coefficient)
    base_d, base_off = np.array(doodson), np.array(offset)
    base_u, base_f = np.array(u_coef), np.array(f_power)
    return SchuremanTable(
        names=names,
        index=index,
        doodson=np.vstack((base_d, mix @ base_d)),
        offset_cycles=np.concatenate((base_off, mix @ base_off)),
        u_coef=np.vstack((base_u, mix @ base_u)),
        f_power=np.vstack((base_f, np.abs(mix) @ base_f)),  # f multiplies, never divides
    )


def _angles(astro: FloatArray, centuries: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The u angles (len(_U_TERMS), m) in radians and the f values (len(_F_TERMS), m)."""
    node = -2.0 * np.pi * astro[4]  # N = -N'
    perigee = 2.0 * np.pi * astro[3]
    half_minus, half_plus = 0.5 * (_OMEGA - _INCL), 0.5 * (_OMEGA + _INCL)
    tan_half_n = np.tan(0.5 * node)
    a = np.arctan2(np.cos(half_minus) * tan_half_n, np.cos(half_plus))
    b = np.arctan2(np.sin(half_minus) * tan_half_n, np.sin(half_plus))
    xi, nu = node - a - b, a - b  # eqs. 194-197
    incl = np.arccos(np.cos(_INCL) * np.cos(_OMEGA) - np.sin(_INCL) * np.sin(_OMEGA) * np.cos(node))
    sin_i, cos_i = np.sin(incl), np.cos(incl)
    cos_half, sin_half = np.cos(0.5 * incl), np.sin(0.5 * incl)
    two_p = 2.0 * (perigee - xi)
    # Lunar and solar coefficients of K1 and K2 (eqs. 217-235): 0.5023, 0.1681 and 0.0365.
    lunar_c = 0.5 + 0.75 * _E_MOON**2
    e_sun = 0.01675104 - 0.0000418 * centuries
    solar = (_SUN_OVER_EARTH * _PARALLAX_SUN**3) / (_MOON_OVER_EARTH * _PARALLAX_MOON**3)
    solar_c = (0.5 + 0.75 * e_sun**2) * solar
    k1_c, k2_c = solar_c * np.sin(2 * _OMEGA), solar_c * np.sin(_OMEGA) ** 2
    sin_2i = np.sin(2 * incl)
    nu_k1 = np.arctan2(sin_2i * np.sin(nu), sin_2i * np.cos(nu) + k1_c / lunar_c)
    nu_k2 = np.arctan2(sin_i**2 * np.sin(2 * nu), sin_i**2 * np.cos(2 * nu) + k2_c / lunar_c)
    q_u = np.arctan2(np.sin(two_p), 3 * cos_i / cos_half**2 + np.cos(two_p))
    r_l2 = np.arctan2(np.sin(two_p), (cos_half / sin_half) ** 2 / 6.0 - np.cos(two_p))
    u = np.stack((xi, nu, q_u, r_l2, nu_k1, nu_k2))
    # f in _F_TERMS order; the denominators are the mean values over a nodal cycle (eqs. 73-79).
    s_om, c_hom, s_hom = np.sin(_OMEGA), np.cos(0.5 * _OMEGA), np.sin(0.5 * _OMEGA)
    c4_hi, incl_mean = np.cos(0.5 * _INCL) ** 4, 1.0 - 1.5 * np.sin(_INCL) ** 2
    f78 = cos_half**4 / (c_hom**4 * c4_hi)
    f75 = sin_i * cos_half**2 / (s_om * c_hom**2 * c4_hi)
    ratio = cos_i / cos_half**2
    m1c = 1 - 10 * sin_half**2 + 15 * sin_half**4
    f = np.stack(
        (
            np.ones_like(node),
            (2.0 / 3.0 - sin_i**2) / ((2.0 / 3.0 - s_om**2) * incl_mean),
            sin_i**2 / (s_om**2 * c4_hi),
            f75,
            sin_2i / (np.sin(2 * _OMEGA) * incl_mean),
            sin_i * sin_half**2 / (s_om * s_hom**2 * c4_hi),
            f78,
            sin_i**2 / (s_om**2 * incl_mean),
            f75 * np.sqrt(0.25 + 1.5 * ratio * np.cos(two_p) + 2.25 * ratio**2),  # eq. 206
            np.sqrt(lunar_c**2 * sin_2i**2 + 2 * lunar_c * k1_c * sin_2i * np.cos(nu) + k1_c**2)
            / (lunar_c * np.sin(2 * _OMEGA) * incl_mean + k1_c),  # eq. 227
            f78 * np.sqrt(1 - 12 * (sin_half / cos_half) ** 2 * np.cos(two_p)
                          + 36 * (sin_half / cos_half) ** 4),  # eq. 215
            np.sqrt(lunar_c**2 * sin_i**4 + 2 * lunar_c * k2_c * sin_i**2 * np.cos(2 * nu)
                    + k2_c**2) / (lunar_c * s_om**2 * incl_mean + k2_c),  # eq. 235
            m1c * cos_half**2 / ((1 - 10 * s_hom**2 + 15 * s_hom**4) * c_hom**2),
        )
    )  # fmt: skip
    return u, f


def astronomical_arguments(times_s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Schureman's tau, s, h, p, N', p' (cycles, (6, n)) and their rates (cycles per day).

    Same layout as `risk_models.constituents.astronomical_arguments` (N' = -N).
    """
    t = np.asarray(times_s, dtype=np.float64)
    centuries = _centuries_since_1900(t)
    coef = np.array(_LONGITUDES_RAD) / (2.0 * np.pi)
    coef[3] *= -1.0  # N' = -N
    powers = np.stack((np.ones_like(centuries), centuries, centuries**2))
    rates = np.stack((np.zeros_like(centuries), np.ones_like(centuries), 2.0 * centuries))
    longitudes = np.mod(coef @ powers, 1.0)
    longitude_rates = coef @ rates / 36525.0
    days = t / 86400.0
    tau = np.mod(days, 1.0) + longitudes[1] - longitudes[0]
    tau_rate = 1.0 + longitude_rates[1] - longitude_rates[0]
    return np.vstack((tau, longitudes)), np.vstack((tau_rate, longitude_rates))


def nodal_grid(
    rows: npt.NDArray[np.intp], astro: FloatArray, times_s: FloatArray, *, x_factors: bool
) -> ComplexArray:
    """Complex nodal factor ``f exp(i u)`` of table rows at the given astronomical arguments.

    Parameters
    ----------
    rows : (k,) rows of `table`
    astro : (6, m) tau, s, h, p, N', p' in cycles (`risk_models.constituents.astronomical_arguments`)
    times_s : (m,) the same times, UTC seconds since the Unix epoch
    x_factors : apply Rijkswaterstaat's x-factors

    Returns
    -------
    (m, k) complex factors.
    """
    tab = table()
    u_angles, f_values = _angles(astro, _centuries_since_1900(times_s))
    u = tab.u_coef[rows] @ u_angles  # (k, m)
    log_f = tab.f_power[rows] @ np.log(f_values)
    f = np.exp(log_f)
    if x_factors:
        f_m2 = np.exp(tab.f_power[tab.index["M2"]] @ np.log(f_values))
        for i, row in enumerate(rows):
            x = RWS_X_FACTORS.get(tab.names[row])
            if x is None:
                continue
            static = not tab.f_power[row, 1:].any()
            f[i] = 1.0 + x * ((f_m2 if static else f[i]) - 1.0)
    result: ComplexArray = (f * np.exp(1j * u)).T
    return result


def _centuries_since_1900(times_s: FloatArray) -> FloatArray:
    """Julian centuries since 1899-12-31 12:00 UTC (Schureman's time argument)."""
    days: FloatArray = np.asarray(times_s, dtype=np.float64) / 86400.0 + _DAYS_1900_TO_1970 + 0.5
    return days / 36525.0
