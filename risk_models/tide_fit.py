"""Harmonic analysis: constituent selection by the Rayleigh criterion and a least-squares fit.

The fit is ordinary least squares on ``[1, (t - t_ref), f cos(2 pi (V + u)), f sin(2 pi (V + u))]``
with f, u and V evaluated at every sample (see `risk_models.tide_predict.basis`), the same model
as UTide's ``solve(..., method="ols", nodal=True)`` (Codiga 2011). Samples may be irregular, in
any order and contain NaN (dropped). Confidence intervals are linearised (UTide "LinCI") from the
coefficient covariance, with the noise variance taken from the residual spectrum in the band of
each constituent, so that red noise (surges, seasonal mean level) widens the low-frequency CIs.
With ``convention="schureman"`` or ``"rws"`` the basis uses Schureman's (and Rijkswaterstaat's)
nodal corrections, and the automatic choice is Rijkswaterstaat's standard list for the record
length (94 constituents for a year or more, as in the published Dutch component sets).
"""

import numpy as np

from risk_models.constituents import (
    CONVENTIONS,
    constituent_names,
    rayleigh_comparison,
    speed_cph,
)
from risk_models.schureman_data import RWS_HALF_YEAR, RWS_MONTH, RWS_SPRING_NEAP, RWS_YEAR
from risk_models.tide_predict import TideConstants, basis
from risk_models.types import FloatArray

__all__ = ["fit", "select_constituents"]

_SECONDS_PER_HOUR = 3600.0
_SECONDS_PER_YEAR = 365.25 * 86400.0
#: 95 % two-sided normal quantile for the confidence half-widths.
_Z95 = 1.959963984540054
#: Frequency bands (cph) over which the residual spectrum is averaged, as in UTide's ut_linci
#: / t_tide: long period, diurnal, semidiurnal, and the higher species.
_BAND_EDGES_CPH = (0.0, 0.0248, 0.0524, 0.1006, 0.1589, 0.2078, 0.2544, 0.3039, 0.3491, 0.4034)
#: Below this amplitude (m) a constituent's phase is undefined.
_MIN_AMPLITUDE_M = 1e-9
#: Sizes of the regular grid on which the residual spectrum is taken (else: white noise).
_MIN_SPECTRUM_SAMPLES = 64
_MAX_SPECTRUM_SAMPLES = 20_000_000
#: Rijkswaterstaat's standard lists by record length (hours): a year (less a day of slack),
#: half a year, a month, a spring-neap cycle; shorter records get M2 and its overtides.
_RWS_LISTS = (
    (364 * 24.0, RWS_YEAR),
    (182 * 24.0, RWS_HALF_YEAR),
    (29 * 24.0, RWS_MONTH),
    (14.5 * 24.0, RWS_SPRING_NEAP),
    (0.0, ("M2", "M4", "M6", "M8")),
)


def select_constituents(
    duration_h: float, rayleigh: float = 1.0, *, convention: str = "foreman"
) -> tuple[str, ...]:
    """Constituents resolvable from a record.

    Parameters
    ----------
    duration_h : record length (last minus first sample), hours
    rayleigh : Rayleigh factor R; a constituent is kept when ``|f - f_neighbour| * T >= R``
        (Foreman convention)
    convention : "foreman": the Rayleigh criterion on Foreman's table (as UTide's "auto");
        "schureman" or "rws": Rijkswaterstaat's standard list for the record length

    Returns
    -------
    (k,) constituent names, in table order (astronomical, then compound), without the mean.
    """
    if convention not in CONVENTIONS:
        msg = f"unknown nodal convention {convention!r}; expected one of {', '.join(CONVENTIONS)}"
        raise ValueError(msg)
    if not (np.isfinite(duration_h) and duration_h > 0.0):
        msg = f"duration_h must be positive and finite, got {duration_h}"
        raise ValueError(msg)
    if not (np.isfinite(rayleigh) and rayleigh > 0.0):
        msg = f"rayleigh must be positive and finite, got {rayleigh}"
        raise ValueError(msg)
    if convention != "foreman":
        return next(names for hours, names in _RWS_LISTS if duration_h >= hours)
    names = constituent_names()
    neighbours = rayleigh_comparison(names)
    candidates = tuple(n for n, c in zip(names, neighbours, strict=True) if c)
    pair = tuple(c for c in neighbours if c)
    pair_speed = np.zeros(len(pair))  # "Z0", the mean, has speed 0
    moving = np.array([c != "Z0" for c in pair], dtype=bool)
    pair_speed[moving] = speed_cph(tuple(c for c in pair if c != "Z0"))
    separation = np.abs(speed_cph(candidates) - pair_speed)
    return tuple(
        n for n, df in zip(candidates, separation, strict=True) if df * duration_h >= rayleigh
    )


def _clean(times_s: object, values_m: object) -> tuple[FloatArray, FloatArray]:
    t = np.asarray(times_s, dtype=np.float64)
    h = np.asarray(values_m, dtype=np.float64)
    if t.ndim != 1 or t.shape != h.shape:
        msg = f"times_s and values_m must be 1-D of the same shape, got {t.shape} and {h.shape}"
        raise ValueError(msg)
    if t.size == 0:
        msg = "empty series"
        raise ValueError(msg)
    keep = np.isfinite(t) & np.isfinite(h)
    if not keep.any():
        msg = "no finite samples: the series is all NaN"
        raise ValueError(msg)
    return t[keep], h[keep]


def _noise_variance(residual: FloatArray, t_h: FloatArray, freq_cph: FloatArray) -> FloatArray:
    """Residual variance seen by each constituent, from band averages of the residual spectrum.

    The residual is put on a regular grid (median step, linear interpolation over gaps) and its
    periodogram is averaged per band. White noise gives the plain residual variance everywhere;
    red noise (surges, seasonal mean level) gives more at low frequency.
    """
    total = float(np.mean(residual**2))
    order = np.argsort(t_h)
    step_h = float(np.median(np.diff(t_h[order]))) if t_h.size > 1 else 0.0
    n_grid = int(np.ptp(t_h) / step_h) + 1 if step_h > 0 else 0
    if n_grid < _MIN_SPECTRUM_SAMPLES or n_grid > _MAX_SPECTRUM_SAMPLES:
        return np.full(freq_cph.shape, total)
    grid = t_h[order[0]] + step_h * np.arange(n_grid)
    series = np.interp(grid, t_h[order], residual[order])
    power = np.abs(np.fft.rfft(series - series.mean()))[1:] ** 2
    freq = np.fft.rfftfreq(n_grid, step_h)[1:]
    edges = np.asarray(_BAND_EDGES_CPH)
    band = np.clip(np.searchsorted(edges, freq, side="right") - 1, 0, edges.size - 1)
    band_mean = np.bincount(band, power, edges.size) / np.maximum(
        np.bincount(band, None, edges.size), 1
    )
    mean_power = float(np.mean(power))
    if mean_power <= 0.0:
        return np.full(freq_cph.shape, total)
    scale = total / mean_power
    where = np.clip(np.searchsorted(edges, freq_cph, side="right") - 1, 0, int(band.max()))
    variance: FloatArray = np.maximum(band_mean[where] * scale, 1e-12 * total)
    return variance


def fit(
    times_s: FloatArray,
    values_m: FloatArray,
    lat: float,
    *,
    constituents: tuple[str, ...] | None = None,
    rayleigh: float = 1.0,
    trend: bool = False,
    convention: str = "foreman",
) -> TideConstants:
    """Least-squares harmonic analysis of a water-level record.

    Parameters
    ----------
    times_s : (n,) UTC seconds since the Unix epoch; any order, irregular, NaN allowed
    values_m : (n,) water level, m; NaN samples are dropped
    lat : station latitude, degrees N
    constituents : names to fit; default: chosen by `select_constituents` from the record length
    rayleigh : Rayleigh factor for the automatic choice
    trend : also fit a linear trend (it extrapolates badly from short records: off by default)
    convention : nodal convention of the fit and of the returned constants: "foreman",
        "schureman" or "rws" (`risk_models.constituents`)

    Returns
    -------
    TideConstants with amplitudes (m), Greenwich phase lags (degrees, UTC) and 95 % CIs.
    """
    t, h = _clean(times_s, values_m)
    names = constituents if constituents is not None else None
    if names is None:
        duration_h = float(np.ptp(t)) / _SECONDS_PER_HOUR
        names = (
            select_constituents(duration_h, rayleigh, convention=convention)
            if duration_h > 0
            else ()
        )
    names = tuple(names)
    speed_cph(names, convention=convention)  # raises ValueError naming unknown constituents
    n_params = 1 + int(trend) + 2 * len(names)
    if not names or t.size <= n_params:
        msg = f"record too short: {t.size} samples over {np.ptp(t) / 3600:.1f} h for {len(names)} constituents"
        raise ValueError(msg)
    t_ref = 0.5 * (float(t.min()) + float(t.max()))
    cos_part, sin_part = basis(names, t, lat, convention=convention)
    columns = [np.ones_like(t)]
    if trend:
        columns.append((t - t_ref) / _SECONDS_PER_YEAR)
    design = np.column_stack([*columns, cos_part, sin_part])
    q, r = np.linalg.qr(design)
    if np.min(np.abs(np.diag(r))) < 1e-10 * np.max(np.abs(np.diag(r))):
        msg = f"constituents {names} cannot be separated with this record (singular design)"
        raise ValueError(msg)
    coef = np.linalg.solve(r, q.T @ h)
    residual = h - design @ coef
    r_inv = np.linalg.inv(r)
    return _constants(
        names, lat, coef, r_inv, residual, t=t, t_ref=t_ref, trend=trend, convention=convention
    )


def _constants(
    names: tuple[str, ...],
    lat: float,
    coef: FloatArray,
    r_inv: FloatArray,
    residual: FloatArray,
    *,
    t: FloatArray,
    t_ref: float,
    trend: bool,
    convention: str,
) -> TideConstants:
    k = len(names)
    offset = 1 + int(trend)
    a, b = coef[offset : offset + k], coef[offset + k :]
    unit_cov = r_inv @ r_inv.T  # (X'X)^-1
    dof = max(residual.size - coef.size, 1)
    speeds = speed_cph(names, convention=convention)
    sigma2 = _noise_variance(residual, t / _SECONDS_PER_HOUR, speeds)
    sigma2 *= residual.size / dof
    idx = np.arange(k) + offset
    var_a = unit_cov[idx, idx] * sigma2
    var_b = unit_cov[idx + k, idx + k] * sigma2
    cov_ab = unit_cov[idx, idx + k] * sigma2
    amplitude = np.hypot(a, b)
    # Linearised (UTide "LinCI"); undefined at A = 0, where the phase is unknown (CI 180 deg).
    resolved = amplitude > _MIN_AMPLITUDE_M
    safe = np.where(resolved, amplitude, 1.0)
    var_amp = np.where(
        resolved, (a**2 * var_a + b**2 * var_b + 2 * a * b * cov_ab) / safe**2, (var_a + var_b) / 2
    )
    var_phase = np.where(
        resolved, (b**2 * var_a + a**2 * var_b - 2 * a * b * cov_ab) / safe**4, np.inf
    )
    return TideConstants(
        lat=float(lat),
        mean_m=float(coef[0]),
        names=names,
        amplitude_m=amplitude,
        phase_deg=np.mod(np.rad2deg(np.arctan2(b, a)), 360.0),
        amplitude_ci_m=_Z95 * np.sqrt(np.maximum(var_amp, 0.0)),
        phase_ci_deg=np.minimum(np.rad2deg(_Z95 * np.sqrt(np.maximum(var_phase, 0.0))), 180.0),
        trend_m_per_year=float(coef[1]) if trend else 0.0,
        reference_time_s=t_ref,
        convention=convention,
    )
