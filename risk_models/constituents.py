"""Tidal constituents: Doodson numbers, speeds, nodal corrections and astronomical arguments.

The table is Foreman's (1977, revised 2004; "Manual for tidal heights analysis and prediction",
Pacific Marine Science Report 77-10, Institute of Ocean Sciences) as distributed with t_tide
(Pawlowicz et al. 2002, Computers & Geosciences 28) and UTide (Codiga 2011, URI/GSO Tech. Rep.
2011-01): 45 astronomical constituents with their satellites, and 100 compound (shallow-water)
constituents defined from them. Nodal corrections follow Foreman: the complex factor of a
constituent is ``1 + sum(r * exp(2 pi i (dp*p + dN*N' + dp'*p' + phase)))`` over its satellites,
where some ratios ``r`` scale with latitude; a compound constituent takes the product of its
parents' factors (``f`` to ``|coefficient|``, ``u`` times the coefficient). The mean longitudes
(s, h, p, N', p') are the polynomials of the Explanatory Supplement to the Astronomical Ephemeris
(1961), pp. 98 and 107. Times are UTC seconds since the Unix epoch; UT1 - UTC (< 1 s) is ignored.

The functions (but `rayleigh_comparison`) take a ``convention``: "foreman" (the above, the
default), "schureman" (Schureman 1958 arguments and nodal corrections, `risk_models.schureman`) or
"rws" (Schureman with the Rijkswaterstaat x-factors: the convention of the published Dutch
component sets). Harmonic constants are only valid in the convention they were derived with. The
conventions have their own constituent tables (Schureman's uses the Rijkswaterstaat names, e.g.
LABDA2, SIGMA1, RO1).

Nothing is computed at import: the tables are parsed once, on first use (``functools.cache``).
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from risk_models import schureman
from risk_models.constituent_data import _ASTRONOMICAL, _SATELLITE_TABLE, _SHALLOW_TABLE
from risk_models.types import FloatArray

ComplexArray = npt.NDArray[np.complex128]

#: Nodal conventions: Foreman (t_tide, UTide), Schureman, and Schureman with the RWS x-factors.
CONVENTIONS = ("foreman", "schureman", "rws")

#: Days from 1899-12-31 12:00 UTC (the epoch of the polynomials) to 1970-01-01 00:00 UTC.
_EPOCH_OFFSET_DAYS = 25567.5
_SECONDS_PER_DAY = 86400.0
#: Polynomial coefficients (degrees; powers of d and of D = d / 10000, d in days from the epoch)
#: of s, h, p, N' and p' (Explanatory Supplement 1961, pp. 98 and 107, as in t_tide's t_astron).
_MEAN_LONGITUDE_DEG = (
    (270.434164, 13.1763965268, -0.0000850, 0.000000039),
    (279.696678, 0.9856473354, 0.00002267, 0.000000000),
    (334.329556, 0.1114040803, -0.0007739, -0.00000026),
    (-259.183275, 0.0529539222, -0.0001557, -0.000000050),
    (281.220844, 0.0000470684, 0.0000339, 0.000000070),
)
#: Foreman's latitude factors for satellites of the diurnal (code 1) and semidiurnal (code 2)
#: species; the latitude is kept at least 5 degrees away from the equator, as in t_tide.
_LAT_FACTOR_DIURNAL = 0.36309
_LAT_FACTOR_SEMIDIURNAL = 2.59808
_MIN_ABS_LAT_DEG = 5.0
#: Nodal factors change over months (the fastest satellite term is the 8.85-year perigee), so
#: they are evaluated on a grid with this step and interpolated linearly: error < 1e-7.
NODAL_GRID_STEP_S = 86400.0


@dataclass(frozen=True)
class _Table:
    """Parsed constituent table; rows are the astronomical constituents, then the compounds."""

    names: tuple[str, ...]
    index: dict[str, int]
    comparison: tuple[str, ...]
    doodson: FloatArray  # (k, 6) effective Doodson numbers, compounds included
    offset_cycles: FloatArray  # (k,)
    compound: FloatArray  # (k, n_astronomical) coefficients on the astronomical constituents
    sat_owner: np.ndarray  # (n_sat,) row of the astronomical constituent
    sat_doodson: FloatArray  # (n_sat, 3) changes of p, N', p'
    sat_phase_cycles: FloatArray  # (n_sat,)
    sat_ratio: FloatArray  # (n_sat,)
    sat_lat_code: np.ndarray  # (n_sat,) 0 none, 1 diurnal, 2 semidiurnal


def _parse_shallow() -> list[tuple[str, str, list[tuple[str, float]]]]:
    rows = []
    for line in _SHALLOW_TABLE.strip().splitlines():
        name, comparison, *terms = line.split()
        parents = [(term.split("*")[0], float(term.split("*")[1])) for term in terms]
        rows.append((name, "" if comparison == "-" else comparison, parents))
    return rows


@cache
def _table() -> _Table:
    base = [row[0] for row in _ASTRONOMICAL]
    shallow = _parse_shallow()
    names = (*base, *(row[0] for row in shallow))
    index = {name: i for i, name in enumerate(names)}
    compound = np.zeros((len(names), len(base)))
    compound[: len(base)] = np.eye(len(base))
    for i, (_, _, parents) in enumerate(shallow, start=len(base)):
        for parent, coefficient in parents:
            compound[i, index[parent]] += coefficient
    sats = [
        row.split()
        for chunk in _SATELLITE_TABLE.split("\n")
        for row in chunk.split("|")
        if row.strip()
    ]
    return _Table(
        names=names,
        index=index,
        comparison=(*(row[3] for row in _ASTRONOMICAL), *(row[1] for row in shallow)),
        doodson=compound @ np.array([row[1] for row in _ASTRONOMICAL], dtype=np.float64),
        offset_cycles=compound @ np.array([row[2] for row in _ASTRONOMICAL], dtype=np.float64),
        compound=compound,
        sat_owner=np.array([index[s[0]] for s in sats]),
        sat_doodson=np.array([s[1:4] for s in sats], dtype=np.float64),
        sat_phase_cycles=np.array([s[4] for s in sats], dtype=np.float64),
        sat_ratio=np.array([s[5] for s in sats], dtype=np.float64),
        sat_lat_code=np.array([int(s[6]) for s in sats]),
    )


def _check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        msg = f"unknown nodal convention {convention!r}; expected one of {', '.join(CONVENTIONS)}"
        raise ValueError(msg)


def _doodson(convention: str) -> tuple[dict[str, int], FloatArray, FloatArray]:
    """Row index, Doodson numbers and phase offsets (cycles) of a convention's table."""
    _check_convention(convention)
    table = _table() if convention == "foreman" else schureman.table()
    return table.index, table.doodson, table.offset_cycles


def constituent_names(convention: str = "foreman") -> tuple[str, ...]:
    """Return the names of all constituents of a convention's table (base first, then compounds)."""
    _check_convention(convention)
    return _table().names if convention == "foreman" else schureman.table().names


def _rows(names: tuple[str, ...] | list[str], convention: str = "foreman") -> np.ndarray:
    index, _, _ = _doodson(convention)
    unknown = [name for name in names if name not in index]
    if unknown:
        msg = f"unknown constituent(s) in the {convention} table: {', '.join(unknown)}"
        raise ValueError(msg)
    return np.array([index[name] for name in names], dtype=np.intp)


def rayleigh_comparison(names: tuple[str, ...]) -> tuple[str, ...]:
    """Return the neighbour each constituent must be resolved from ("" if never chosen automatically)."""
    table = _table()
    return tuple(table.comparison[i] for i in _rows(names))


def astronomical_arguments(
    times_s: FloatArray, convention: str = "foreman"
) -> tuple[FloatArray, FloatArray]:
    """Mean longitudes and their rates.

    Parameters
    ----------
    times_s : (n,) UTC seconds since the Unix epoch
    convention : "foreman" (Explanatory Supplement 1961), or "schureman" / "rws" (Schureman)

    Returns
    -------
    (6, n) tau, s, h, p, N', p' in cycles, and (6, n) their rates in cycles per day.
    """
    _check_convention(convention)
    if convention != "foreman":
        return schureman.astronomical_arguments(times_s)
    days = np.asarray(times_s, dtype=np.float64) / _SECONDS_PER_DAY
    d = days + _EPOCH_OFFSET_DAYS
    big_d = d / 10000.0
    coef = np.array(_MEAN_LONGITUDE_DEG) / 360.0
    powers = np.stack((np.ones_like(d), d, big_d**2, big_d**3))
    rates = np.stack((np.zeros_like(d), np.ones_like(d), 2.0e-4 * big_d, 3.0e-4 * big_d**2))
    longitudes = np.fmod(coef @ powers, 1.0)
    longitude_rates = coef @ rates
    tau = np.mod(days, 1.0) + longitudes[1] - longitudes[0]
    tau_rate = 1.0 + longitude_rates[1] - longitude_rates[0]
    return np.vstack((tau, longitudes)), np.vstack((tau_rate, longitude_rates))


def speed_cph(
    names: tuple[str, ...], at_s: float = 946728000.0, *, convention: str = "foreman"
) -> FloatArray:
    """Angular speeds in cycles per hour (at 2000-01-01 12:00 UTC unless ``at_s`` says otherwise)."""
    _, rates = astronomical_arguments(np.array([at_s]), convention)
    _, doodson, _ = _doodson(convention)
    speed: FloatArray = (doodson[_rows(names, convention)] @ rates[:, 0]) / 24.0
    return speed


def equilibrium_argument(
    names: tuple[str, ...], times_s: FloatArray, *, wrap: bool = True, convention: str = "foreman"
) -> FloatArray:
    """Astronomical argument V (cycles) of each constituent at each time, shape (n, k).

    In [0, 1) when ``wrap``; unwrapped (a few cycles at most, as the mean longitudes are
    already reduced) otherwise, which is enough for a cosine and saves time.
    """
    _, doodson, offset = _doodson(convention)
    rows = _rows(names, convention)
    astro, _ = astronomical_arguments(times_s, convention)
    phase: FloatArray = astro.T @ doodson[rows].T + offset[rows]
    return np.mod(phase, 1.0) if wrap else phase


def _nodal_astronomical(astro: FloatArray, lat: float) -> ComplexArray:
    """Complex nodal factors of the astronomical constituents, shape (n_astronomical, m)."""
    table = _table()
    lat_eff = max(abs(lat), _MIN_ABS_LAT_DEG) * (-1.0 if lat < 0 else 1.0)
    sin_lat = np.sin(np.deg2rad(lat_eff))
    lat_scale = np.select(
        [table.sat_lat_code == 1, table.sat_lat_code == 2],
        [
            _LAT_FACTOR_DIURNAL * (1.0 - 5.0 * sin_lat**2) / sin_lat,
            _LAT_FACTOR_SEMIDIURNAL * sin_lat,
        ],
        1.0,
    )
    arg = table.sat_doodson @ astro[3:6] + table.sat_phase_cycles[:, None]
    terms = (table.sat_ratio * lat_scale)[:, None] * np.exp(2j * np.pi * arg)
    n_base = table.compound.shape[1]
    owner = np.zeros((n_base, terms.shape[0]))
    owner[table.sat_owner, np.arange(terms.shape[0])] = 1.0
    factor: ComplexArray = 1.0 + owner @ terms
    return factor


def _foreman_grid(rows: np.ndarray, astro: FloatArray, lat: float) -> ComplexArray:
    """Foreman's complex nodal factors of table rows, (m, k), from those of the parents."""
    base = _nodal_astronomical(astro, lat)
    coefficient = _table().compound[rows]
    log_f = np.abs(coefficient) @ np.log(np.abs(base))
    u_cycles = coefficient @ (np.angle(base) / (2.0 * np.pi))
    factor: ComplexArray = np.exp(log_f + 2j * np.pi * u_cycles).T
    return factor


def nodal_complex(
    names: tuple[str, ...], times_s: FloatArray, lat: float, *, convention: str = "foreman"
) -> ComplexArray:
    """Complex nodal correction ``f * exp(2 pi i u)`` of each constituent.

    Parameters
    ----------
    names : (k,) constituent names
    times_s : (n,) UTC seconds since the Unix epoch; finite
    lat : latitude of the station, degrees N (used by Foreman's satellites only)
    convention : "foreman", "schureman" or "rws" (see the module docstring)

    Returns
    -------
    (n, k) complex factor: its modulus is f (dimensionless), its argument 2 pi u (u in cycles).
    """
    rows = _rows(names, convention)
    t = np.asarray(times_s, dtype=np.float64)
    start = float(np.min(t)) if t.size else 0.0
    span = float(np.max(t)) - start if t.size else 0.0
    n_grid = int(np.ceil(span / NODAL_GRID_STEP_S)) + 2
    grid = start + NODAL_GRID_STEP_S * np.arange(n_grid, dtype=np.float64)
    astro, _ = astronomical_arguments(grid, convention)
    if convention == "foreman":
        factor = _foreman_grid(rows, astro, lat)
    else:
        factor = schureman.nodal_grid(rows, astro, grid, x_factors=convention == "rws")
    position = (t - start) / NODAL_GRID_STEP_S
    left = np.clip(np.floor(position).astype(np.intp), 0, n_grid - 2)
    weight = (position - left)[:, None]
    result: ComplexArray = factor[left] * (1.0 - weight) + factor[left + 1] * weight
    return result


def nodal_factors(
    names: tuple[str, ...], times_s: FloatArray, lat: float, *, convention: str = "foreman"
) -> tuple[FloatArray, FloatArray]:
    """Nodal amplitude factor f (n, k) and phase correction u (n, k, cycles); see `nodal_complex`."""
    factor = nodal_complex(names, times_s, lat, convention=convention)
    return np.abs(factor), np.angle(factor) / (2.0 * np.pi)
