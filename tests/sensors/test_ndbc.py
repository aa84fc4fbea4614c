"""NDBC stdmet parsing: historical and realtime2 formats, per-column missing codes."""

import numpy as np
import pytest

from sensors.ndbc import NdbcFormatError, StdMet, parse_stdmet
from tests.helpers import REFERENCE


def _utc_s(iso: str) -> float:
    return float(np.datetime64(iso, "s").astype(np.int64))


@pytest.fixture(scope="module")
def sandy() -> StdMet:
    return parse_stdmet((REFERENCE / "ndbc_44005_2012_stdmet.txt").read_text(encoding="ascii"))


def test_historical_file_has_all_records_in_utc(sandy: StdMet) -> None:
    """The 44005 2012 file (header without '#', no units line) gives 8347 hourly records."""
    assert sandy.times_s.shape == (8347,)
    assert sandy.times_s[0] == _utc_s("2011-12-31T23:50")
    assert sandy.times_s[-1] == _utc_s("2012-12-14T05:50")


def test_missing_pressure_code_is_nan_but_999_hpa_is_kept(sandy: StdMet) -> None:
    """PRES 9999.0 is missing (3 rows) while 999.0 hPa is a real reading (19 rows)."""
    assert np.isnan(sandy.pres_hpa).sum() == 3
    assert (sandy.pres_hpa == 999.0).sum() == 19


def test_wind_direction_99_is_a_real_direction(sandy: StdMet) -> None:
    """WDIR 99 is kept (10 rows); only 999 means missing."""
    assert (sandy.wdir_deg == 99.0).sum() == 10
    assert not (sandy.wdir_deg == 999.0).any()


def test_entirely_missing_columns_are_nan(sandy: StdMet) -> None:
    """MWD, VIS and TIDE carry only missing codes in this file; PTDY is absent."""
    for values in (sandy.mwd_deg, sandy.vis_nmi, sandy.tide_ft, sandy.ptdy_hpa):
        assert np.isnan(values).all()


def test_wind_missing_at_the_end_of_the_file(sandy: StdMet) -> None:
    """Wind is missing after 2012-11-28 22:50 (and 2012-11-27 21:50 to 11-28 06:50) while waves go on.

    The data README says "from 2012-11-27 21:50 to the end"; the file has 16 more hours of wind
    on 28 November.
    """
    late = sandy.times_s > _utc_s("2012-11-28T22:50")
    for values in (sandy.wdir_deg, sandy.wspd_mps, sandy.gst_mps):
        assert np.isnan(values[late]).all()
    assert np.isfinite(sandy.wvht_m[late]).sum() > 300
    gap = (sandy.times_s >= _utc_s("2012-11-27T21:50")) & (
        sandy.times_s <= _utc_s("2012-11-28T06:50")
    )
    assert np.isnan(sandy.wspd_mps[gap]).all()
    assert sandy.wspd_mps[sandy.times_s == _utc_s("2012-11-28T07:50")].tolist() == [9.5]


def test_sandy_wind_and_pressure_peaks(sandy: StdMet) -> None:
    """During Sandy WSPD peaks at 17.7 m/s (GST 22.5) and PRES falls to 996.3 hPa."""
    window = (sandy.times_s >= _utc_s("2012-10-28")) & (sandy.times_s < _utc_s("2012-11-01"))
    i = np.nanargmax(np.where(window, sandy.wspd_mps, np.nan))
    assert (sandy.wspd_mps[i], sandy.gst_mps[i]) == (17.7, 22.5)
    assert sandy.times_s[i] == _utc_s("2012-10-29T19:50")
    assert np.nanmin(np.where(window, sandy.pres_hpa, np.nan)) == 996.3


def test_realtime2_file_sorted_oldest_first_with_mm_as_nan() -> None:
    """The realtime2 file (newest first, 'MM', PTDY) parses to 6490 records, oldest first."""
    met = parse_stdmet((REFERENCE / "ndbc_46097_realtime_2019-02-16_2019-04-02.txt").read_text())
    assert met.times_s.shape == (6490,)
    assert met.times_s[0] == _utc_s("2019-02-16T00:00")
    assert met.times_s[-1] == _utc_s("2019-04-02T13:50")
    assert np.all(np.diff(met.times_s) > 0)
    first = [met.wdir_deg[0], met.wspd_mps[0], met.pres_hpa[0], met.atmp_degc[0], met.wtmp_degc[0]]
    assert first == [180.0, 12.0, 1001.0, 6.1, 10.9]
    missing = [met.gst_mps, met.wvht_m, met.dpd_s, met.apd_s, met.mwd_deg, met.dewp_degc]
    missing += [met.vis_nmi, met.ptdy_hpa, met.tide_ft]
    assert all(np.isnan(m[0]) for m in missing)


def test_historical_monthly_file() -> None:
    """The 46097 QC monthly file gives 4464 ten-minute records of August 2019."""
    met = parse_stdmet((REFERENCE / "ndbc_46097_stdmet_2019-08_qc.txt").read_text())
    assert met.times_s.shape == (4464,)
    assert met.times_s[-1] == _utc_s("2019-08-31T23:50")
    assert (met.wdir_deg[-1], met.wspd_mps[-1], met.pres_hpa[-1]) == (160.0, 2.7, 1014.9)
    assert np.isnan([met.gst_mps[-1], met.wvht_m[-1], met.dewp_degc[-1]]).all()


def test_pre_2005_layout_without_minutes() -> None:
    """Old files use YYYY, WD and BAR and have no minute column."""
    text = "YYYY MM DD hh WD   WSPD GST  WVHT  DPD   APD  MWD  BAR    ATMP  WTMP  DEWP  VIS\n"
    text += "1998 10 30 04 120  10.0 12.0  3.00  9.00  7.00 999 1000.0  10.0  11.0 999.0 99.0\n"
    met = parse_stdmet(text)
    assert met.times_s[0] == _utc_s("1998-10-30T04:00")
    assert (met.wdir_deg[0], met.pres_hpa[0]) == (120.0, 1000.0)
    assert np.isnan(met.mwd_deg[0])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("hello world\n1 2\n", "not an NDBC header"),
        ("#YY MM DD hh mm WVHT\n2012 01 01 00 50\n", "fields"),
        ("#YY MM DD hh mm WVHT\n2012 01 01 00 50 abc\n", "non-numeric"),
    ],
)
def test_malformed_text_raises(text: str, match: str) -> None:
    """Text that is not NDBC stdmet raises NdbcFormatError saying what is wrong."""
    with pytest.raises(NdbcFormatError, match=match):
        parse_stdmet(text)
