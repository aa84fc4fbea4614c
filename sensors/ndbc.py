"""Parse NDBC standard meteorological text (historical stdmet and realtime2) into arrays.

Pure: a ``str`` in, a frozen dataclass of float64 arrays out, records sorted oldest first.
Formats (reference/README.md, NDBC sections):

* historical stdmet: header ``#YY MM DD hh mm WDIR …`` (or ``YY`` without ``#``, or ``YYYY``),
  an optional units line ``#yr mo dy …``, numeric missing codes, oldest record first;
* realtime2: two ``#`` header lines, newest record first, missing values written ``MM``, an
  extra ``PTDY`` column;
* pre-2005 files have no minute column, name wind direction ``WD`` and pressure ``BAR``.

Missing codes are applied **per column, on the full code**: PRES 999.0 hPa and WDIR 99° are real
readings, only PRES 9999.0 and WDIR 999 mean missing.
"""

from dataclasses import dataclass

import numpy as np

from risk_models.types import FloatArray

__all__ = ["MISSING_CODES", "NdbcFormatError", "StdMet", "parse_stdmet"]

#: Missing-value code of each column (NDBC "Missing data" convention; reference/README.md).
MISSING_CODES: dict[str, float] = {
    "WDIR": 999.0,
    "WSPD": 99.0,
    "GST": 99.0,
    "WVHT": 99.0,
    "DPD": 99.0,
    "APD": 99.0,
    "MWD": 999.0,
    "PRES": 9999.0,
    "ATMP": 999.0,
    "WTMP": 999.0,
    "DEWP": 999.0,
    "VIS": 99.0,
    "PTDY": 99.0,
    "TIDE": 99.0,
}

_ALIASES = {"WD": "WDIR", "BAR": "PRES", "YYYY": "YY", "#YYYY": "YY", "#YY": "YY"}
_TIME_COLUMNS = ("YY", "MM", "DD", "hh")
_TWO_DIGIT_YEAR_BASE = 1900  # 2-digit years appear only in files before 1999


class NdbcFormatError(ValueError):
    """The text is not NDBC standard meteorological data; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class StdMet:
    """Standard meteorological records of one NDBC station, oldest first; NaN where missing.

    Units are NDBC's: WSPD is an 8-min mean, GST the peak 5-s (or 8-s) gust; PRES is at sea level.
    """

    times_s: FloatArray  # (n,) s since 1970-01-01T00:00Z (UTC)
    wdir_deg: FloatArray  # direction the wind comes from, degrees true
    wspd_mps: FloatArray
    gst_mps: FloatArray
    wvht_m: FloatArray  # significant wave height
    dpd_s: FloatArray  # dominant period
    apd_s: FloatArray  # average period
    mwd_deg: FloatArray  # direction the dominant waves come from, degrees true
    pres_hpa: FloatArray
    atmp_degc: FloatArray
    wtmp_degc: FloatArray
    dewp_degc: FloatArray
    vis_nmi: FloatArray
    ptdy_hpa: FloatArray  # pressure tendency (realtime2 only; NaN otherwise)
    tide_ft: FloatArray


_FIELDS = {
    "WDIR": "wdir_deg",
    "WSPD": "wspd_mps",
    "GST": "gst_mps",
    "WVHT": "wvht_m",
    "DPD": "dpd_s",
    "APD": "apd_s",
    "MWD": "mwd_deg",
    "PRES": "pres_hpa",
    "ATMP": "atmp_degc",
    "WTMP": "wtmp_degc",
    "DEWP": "dewp_degc",
    "VIS": "vis_nmi",
    "PTDY": "ptdy_hpa",
    "TIDE": "tide_ft",
}


def _header(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split the text into column names and data lines."""
    if not lines:
        msg = "empty NDBC text"
        raise NdbcFormatError(msg)
    names = [_ALIASES.get(n, n) for n in lines[0].split()]
    if names[:4] != list(_TIME_COLUMNS):
        msg = f"first line is not an NDBC header (expected 'YY MM DD hh …'), got {lines[0][:40]!r}"
        raise NdbcFormatError(msg)
    data = [ln for ln in lines[1:] if ln.strip() and not ln.lstrip().startswith("#")]
    return names, data


def _table(names: list[str], data: list[str]) -> FloatArray:
    """Return the data as a float64 (n, columns) array, with ``MM`` as NaN."""
    rows = [ln.split() for ln in data]
    bad = next((i for i, r in enumerate(rows) if len(r) != len(names)), None)
    if bad is not None:
        msg = f"data line {bad + 1} has {len(rows[bad])} fields, the header has {len(names)}"
        raise NdbcFormatError(msg)
    cells = np.array(rows, dtype=np.str_).reshape(len(rows), len(names))
    cells[cells == "MM"] = "nan"
    try:
        return cells.astype(np.float64)
    except ValueError as exc:
        msg = f"non-numeric value in NDBC data: {exc}"
        raise NdbcFormatError(msg) from None


def _times_s(names: list[str], table: FloatArray) -> FloatArray:
    """Return UTC epoch seconds from the YY MM DD hh [mm] columns."""
    col = {
        n: table[:, i].astype(np.int64) for i, n in enumerate(names) if n in (*_TIME_COLUMNS, "mm")
    }
    year = np.where(col["YY"] < 100, col["YY"] + _TWO_DIGIT_YEAR_BASE, col["YY"])
    minute = col.get("mm", np.zeros_like(year))
    months = (year - 1970) * 12 + col["MM"] - 1
    days = months.astype("datetime64[M]").astype("datetime64[D]") + (col["DD"] - 1)
    seconds = days.astype("datetime64[s]").astype(np.int64) + col["hh"] * 3600 + minute * 60
    return seconds.astype(np.float64)


def parse_stdmet(text: str) -> StdMet:
    """Parse NDBC standard meteorological text (historical or realtime2).

    Parameters
    ----------
    text : the whole file as text.

    Returns
    -------
    StdMet with (n,) arrays sorted by time, oldest first; NaN for missing codes, ``MM`` and
    columns absent from the file.

    Raises
    ------
    NdbcFormatError
        If the header is not an NDBC header or a data line does not match it.
    """
    names, data = _header(text.splitlines())
    table = _table(names, data)
    order = np.argsort(_times_s(names, table), kind="stable")
    table = table[order]
    times_s = _times_s(names, table)
    n = len(times_s)
    columns: dict[str, FloatArray] = {}
    for code, field in _FIELDS.items():
        if code in names:
            values = table[:, names.index(code)].copy()
            values[values == MISSING_CODES[code]] = np.nan
        else:
            values = np.full(n, np.nan)
        columns[field] = values
    return StdMet(times_s=times_s, **columns)
