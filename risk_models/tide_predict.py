"""Harmonic tide constants and prediction.

Model (DOMAIN.md §5.3), with Greenwich phase lags g in UTC:
``h(t) = mean [+ trend] + sum_k f_k(t) A_k cos(2 pi (V_k(t) + u_k(t)) - g_k)``.
Nodal corrections f, u and the astronomical argument V come from `risk_models.constituents`
in the convention the constants carry: Foreman (t_tide / UTide, the default), Schureman, or
Rijkswaterstaat's (Schureman with x-factors, the convention of the published Dutch component
sets). They are evaluated at every sample, not at the record
centre: over a multi-year record the M2 factor drifts by about 1 % a year, and freezing it at the
centre costs several millimetres at both ends. Times are UTC seconds since the Unix epoch.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from risk_models.constituents import (
    CONVENTIONS,
    constituent_names,
    equilibrium_argument,
    nodal_complex,
    speed_cph,
)
from risk_models.types import FloatArray

__all__ = ["TideConstants", "basis", "predict"]

_PHASE_CONVENTION = "Greenwich phase lag, degrees, UTC"
_SECONDS_PER_YEAR = 365.25 * 86400.0
#: Regular series are predicted block by block: exact equilibrium argument and nodal factor at each
#: block edge, the argument advanced at constant speed within a block (its change of speed over a
#: day is below 1e-9 cycles) and the nodal factor interpolated linearly, as in :func:`basis`.
_BLOCK_S = 86400.0
_MIN_REGULAR_SAMPLES = 96


def _vector(values: object, n: int, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n,):
        msg = f"{name} must have shape ({n},), got {array.shape}"
        raise ValueError(msg)
    return array


@dataclass(frozen=True, slots=True, eq=False)
class TideConstants:
    """Harmonic constants of one station.

    Attributes
    ----------
    lat : station latitude, degrees N (it scales some nodal satellites)
    mean_m : mean level, m, at ``reference_time_s`` when there is a trend
    names : (k,) constituent names
    amplitude_m : (k,) amplitudes A, m
    phase_deg : (k,) Greenwich phase lags g, degrees, UTC
    amplitude_ci_m : (k,) 95 % confidence half-width of A, m (NaN if unknown)
    phase_ci_deg : (k,) 95 % confidence half-width of g, degrees (NaN if unknown)
    trend_m_per_year : linear trend, m per year (0 unless fitted with ``trend=True``)
    reference_time_s : time at which ``mean_m`` holds, UTC seconds since the Unix epoch
    convention : nodal convention of the phases: "foreman", "schureman" or "rws"
        (`risk_models.constituents`); it also picks the constituent table (RWS names)
    """

    lat: float
    mean_m: float
    names: tuple[str, ...]
    amplitude_m: FloatArray
    phase_deg: FloatArray
    amplitude_ci_m: FloatArray = field(default_factory=lambda: np.empty(0))
    phase_ci_deg: FloatArray = field(default_factory=lambda: np.empty(0))
    trend_m_per_year: float = 0.0
    reference_time_s: float = 0.0
    convention: str = "foreman"

    def __post_init__(self) -> None:
        n = len(self.names)
        known = set(constituent_names(self.convention))
        unknown = [name for name in self.names if name not in known]
        if unknown:
            msg = f"unknown constituent(s) in the {self.convention} table: {', '.join(unknown)}"
            raise ValueError(msg)
        if len(set(self.names)) != n:
            msg = f"duplicate constituent names in {self.names}"
            raise ValueError(msg)
        nan = np.full(n, np.nan)
        object.__setattr__(self, "names", tuple(self.names))
        for name in ("amplitude_m", "phase_deg", "amplitude_ci_m", "phase_ci_deg"):
            value = getattr(self, name)
            if name.endswith("ci_m") or name.endswith("ci_deg"):
                value = nan if np.size(value) == 0 else value
            object.__setattr__(self, name, _vector(value, n, name))
        if not (np.isfinite(self.lat) and np.isfinite(self.mean_m)):
            msg = f"lat and mean_m must be finite, got {self.lat}, {self.mean_m}"
            raise ValueError(msg)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form (the trend keys only when there is a trend, the convention key
        only when it is not "foreman")."""
        data: dict[str, object] = {
            "lat": float(self.lat),
            "mean": float(self.mean_m),
            "units": "m",
            "phase": _PHASE_CONVENTION,
            "constituents": [
                {
                    "name": name,
                    "amplitude": float(a),
                    "phase": float(g),
                    "amplitude_ci": None if np.isnan(a_ci) else float(a_ci),
                    "phase_ci": None if np.isnan(g_ci) else float(g_ci),
                }
                for name, a, g, a_ci, g_ci in zip(
                    self.names,
                    self.amplitude_m,
                    self.phase_deg,
                    self.amplitude_ci_m,
                    self.phase_ci_deg,
                    strict=True,
                )
            ],
        }
        if self.trend_m_per_year != 0.0:
            data["trend_m_per_year"] = float(self.trend_m_per_year)
            data["reference_time_s"] = float(self.reference_time_s)
        if self.convention != "foreman":
            data["convention"] = self.convention
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> "TideConstants":
        """Build constants from the JSON form of `to_dict`; ValueError names the bad key."""
        data = _check_keys(data, _TOP_KEYS, _TOP_REQUIRED, "constants")
        for key in ("status", "source"):
            if not isinstance(data.get(key, ""), str):
                msg = f"constants: key {key!r} must be text, got {data[key]!r}"
                raise ValueError(msg)
        if data.get("units", "m") != "m":
            msg = f"key 'units': expected 'm', got {data['units']!r}"
            raise ValueError(msg)
        rows = data["constituents"]
        if not isinstance(rows, list):
            msg = "key 'constituents': expected a list"
            raise ValueError(msg)
        convention = data.get("convention", "foreman")
        if convention not in CONVENTIONS:
            msg = f"key 'convention': expected one of {', '.join(CONVENTIONS)}, got {convention!r}"
            raise ValueError(msg)
        parsed = [_constituent_row(row, i, str(convention)) for i, row in enumerate(rows)]
        columns = list(zip(*parsed, strict=True)) if parsed else [(), (), (), (), ()]
        return cls(
            lat=_number(data, "lat", "constants"),
            mean_m=_number(data, "mean", "constants"),
            names=tuple(str(name) for name in columns[0]),
            amplitude_m=np.array(columns[1], dtype=np.float64),
            phase_deg=np.array(columns[2], dtype=np.float64),
            amplitude_ci_m=np.array(columns[3], dtype=np.float64),
            phase_ci_deg=np.array(columns[4], dtype=np.float64),
            trend_m_per_year=_number(data, "trend_m_per_year", "constants", 0.0),
            reference_time_s=_number(data, "reference_time_s", "constants", 0.0),
            convention=str(convention),
        )


#: "status" and "source" are provenance (a status tag such as SAMPLE, and where the numbers come
#: from): checked to be text and kept in the file, not in TideConstants.
_TOP_KEYS = frozenset(
    {
        "lat",
        "mean",
        "units",
        "phase",
        "constituents",
        "trend_m_per_year",
        "reference_time_s",
        "convention",
    }
    | {"status", "source"}
)
_TOP_REQUIRED = frozenset({"lat", "mean", "constituents"})
_ROW_KEYS = frozenset({"name", "amplitude", "phase", "amplitude_ci", "phase_ci"})
_ROW_REQUIRED = frozenset({"name", "amplitude", "phase"})


def _check_keys(
    data: object, allowed: frozenset[str], required: frozenset[str], where: str
) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        msg = f"{where}: expected a JSON object, got {type(data).__name__}"
        raise ValueError(msg)
    missing = sorted(required - data.keys())
    if missing:
        msg = f"{where}: missing key {missing[0]!r}"
        raise ValueError(msg)
    extra = sorted(set(data.keys()) - allowed)
    if extra:
        msg = f"{where}: unexpected key {extra[0]!r}"
        raise ValueError(msg)
    return data


def _number(
    data: Mapping[str, object], key: str, where: str, default: float | None = None
) -> float:
    value = data.get(key, default)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{where}: key {key!r} must be a number, got {value!r}"
        raise ValueError(msg)
    return float(value)


def _constituent_row(
    row: object, i: int, convention: str
) -> tuple[str, float, float, float, float]:
    where = f"constituents[{i}]"
    row = _check_keys(row, _ROW_KEYS, _ROW_REQUIRED, where)
    name = row["name"]
    if not isinstance(name, str) or name not in constituent_names(convention):
        msg = f"{where}: key 'name': unknown constituent {name!r}"
        raise ValueError(msg)
    return (
        name,
        _number(row, "amplitude", where),
        _number(row, "phase", where),
        _number(row, "amplitude_ci", where, float("nan")),
        _number(row, "phase_ci", where, float("nan")),
    )


def basis(
    names: tuple[str, ...],
    times_s: FloatArray,
    lat: float,
    *,
    convention: str = "foreman",
    nodal_time_s: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Nodally corrected harmonic basis.

    Parameters
    ----------
    names : (k,) constituent names
    times_s : (n,) UTC seconds since the Unix epoch; finite
    lat : latitude, degrees N
    convention : nodal convention, "foreman", "schureman" or "rws"
    nodal_time_s : evaluate f and u at this one time instead of at every sample

    Returns
    -------
    (n, k) ``f cos(2 pi (V + u))`` and (n, k) ``f sin(2 pi (V + u))``; then
    ``h = cos_part @ (A cos g) + sin_part @ (A sin g)``.
    """
    angle = 2.0 * np.pi * equilibrium_argument(names, times_s, wrap=False, convention=convention)
    nodal_times = times_s if nodal_time_s is None else np.array([nodal_time_s])
    nodal = nodal_complex(names, nodal_times, lat, convention=convention)
    cos_v, sin_v = np.cos(angle), np.sin(angle)
    nodal_re, nodal_im = nodal.real, nodal.imag
    # (f e^{iu}) e^{iV}: real and imaginary parts without a complex exponential (faster)
    return nodal_re * cos_v - nodal_im * sin_v, nodal_re * sin_v + nodal_im * cos_v


def predict(
    constants: TideConstants, times_s: FloatArray, *, nodal_at_centre: bool = False
) -> FloatArray:
    """Astronomical tide, mean (and trend) included.

    Parameters
    ----------
    constants : harmonic constants
    times_s : (n,) UTC seconds since the Unix epoch
    nodal_at_centre : hold the nodal corrections f and u at their value at the middle sample of
        ``times_s`` instead of following them sample by sample. This is how Rijkswaterstaat makes
        its official yearly predictions (hatyan ``fu_alltimes=False``); over a year it moves the
        tide by up to 3 cm at the ends. Off by default: following them is closer to the tide.

    Returns
    -------
    (n,) water level in m, in the datum of ``constants.mean_m``; NaN where a time is NaN.
    """
    t = np.asarray(times_s, dtype=np.float64)
    if t.ndim != 1:
        msg = f"times_s must be 1-D, got shape {t.shape}"
        raise ValueError(msg)
    level = np.full(t.shape, np.nan)
    finite = np.isfinite(t)
    if not finite.any():
        return level
    tf = t[finite]
    step = _regular_step(tf)
    nodal_time_s = float(tf[tf.size // 2]) if nodal_at_centre else None
    if step is None:
        cos_part, sin_part = basis(
            constants.names,
            tf,
            constants.lat,
            convention=constants.convention,
            nodal_time_s=nodal_time_s,
        )
        g_rad = np.deg2rad(constants.phase_deg)
        tide = cos_part @ (constants.amplitude_m * np.cos(g_rad))
        tide += sin_part @ (constants.amplitude_m * np.sin(g_rad))
    else:
        tide = _predict_regular(constants, float(tf[0]), step, tf.size, nodal_time_s)
    trend = constants.trend_m_per_year * (tf - constants.reference_time_s) / _SECONDS_PER_YEAR
    level[finite] = constants.mean_m + trend + tide
    return level


def _regular_step(t: FloatArray) -> float | None:
    """The constant positive step of ``t`` (s), or None when the series is short or irregular."""
    if t.size < _MIN_REGULAR_SAMPLES:
        return None
    steps = np.diff(t)
    step = float(steps[0])
    if step <= 0.0 or step > _BLOCK_S or np.abs(steps - step).max() > 1e-6 * step:
        return None
    return step


def _predict_regular(
    constants: TideConstants, t0_s: float, step_s: float, n: int, nodal_time_s: float | None
) -> FloatArray:
    """Tide on ``t0 + step * arange(n)`` as two complex matrix products per block of about a day.

    ``h = Re sum_k A_k e^{-i g_k} F_k(t) e^{2 pi i V_k(t)}`` with ``F = f e^{2 pi i u}``; within block j,
    ``V(t) = V(T_j) + speed * tau`` and ``F(t) = F(T_j) + (F(T_j+1) - F(T_j)) tau / block``.
    """
    per_block = max(1, int(_BLOCK_S // step_s))
    n_blocks = -(-n // per_block)
    edges: FloatArray = t0_s + step_s * per_block * np.arange(n_blocks + 1, dtype=np.float64)
    tau = step_s * np.arange(per_block)
    names, convention = constants.names, constants.convention
    argument = equilibrium_argument(names, edges[:-1], wrap=False, convention=convention)
    turn = np.exp(2j * np.pi * argument)  # (b, k)
    if nodal_time_s is None:
        nodal = nodal_complex(names, edges, constants.lat, convention=convention)  # (b + 1, k)
    else:
        nodal = np.repeat(
            nodal_complex(names, np.array([nodal_time_s]), constants.lat, convention=convention),
            edges.size,
            axis=0,
        )
    amplitude = constants.amplitude_m * np.exp(-1j * np.deg2rad(constants.phase_deg))
    speed_per_s = speed_cph(names, at_s=t0_s, convention=convention) / 3600.0
    within = np.exp(2j * np.pi * np.outer(speed_per_s, tau))  # (k, per_block)
    start = (amplitude * nodal[:-1] * turn) @ within
    slope = (amplitude * (nodal[1:] - nodal[:-1]) * turn) @ within
    blocks = start.real + slope.real * (tau / (step_s * per_block))
    tide: FloatArray = blocks.ravel()[:n]
    return tide
