"""Wave forecasts: significant wave height and peak period at a wave station, hour by hour.

A wave forecast arrives on MQTT ``{root}/forecast/by/{forecaster}/{station}/waves`` or ``POST
/api/v1/forecasts/waves``. Fresh (issued within ``forecast_max_age_s``), it drives:

- the station's **waves** colour: the higher of the observed level and the highest forecast level
  within the outlook (China's wave warnings are issued on forecast Hs, docs/DOMAIN.md §1.6), or the
  forecast alone when the buoy has no data; its hourly outlook;
- the **overtopping** outlook of every dike whose wave station it is: the hours the forecast covers
  use its Hs and Tp on the forecast water level (instead of the last observed waves held), and the
  dike's colour is the higher of the observed one and the highest forecast hour.

Between points Hs and Tp are interpolated linearly every 10 min; outside the forecast's span the
waves outlook has no forecast (-1) and the overtopping outlook keeps the held observed waves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from marine_watch.risk.assessment import Assessment
from marine_watch.risk.dikes import OutsideValidity, assess_segment
from marine_watch.risk.outlook import HOUR_S, STEP_S
from risk_models import levels, waves
from risk_models.types import UNKNOWN, Hazard
from sensors.catalogue import Catalogue, Station

MAX_POINTS = 500


class WavePointIn(BaseModel):
    """Forecast waves at one time."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    ts: AwareDatetime
    hs_m: float = Field(ge=0, le=30, description="significant wave height, m")
    tp_s: float = Field(ge=1, le=30, description="peak period, s")


class WaveForecastIn(BaseModel):
    """A wave forecast for one station that measures waves (the wire format, v1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    station: str = Field(pattern=r"^[a-z0-9_\-]{1,64}$")
    issued: AwareDatetime
    source: str = Field(min_length=1, max_length=200, examples=["Zhejiang Marine Forecast Office"])
    points: list[WavePointIn] = Field(min_length=1, max_length=MAX_POINTS)


@dataclass(frozen=True, slots=True)
class WaveForecast:
    """A stored wave forecast: times (s), Hs (m), Tp (s), sorted by time."""

    station: str
    issued_s: float
    source: str
    times_s: np.ndarray
    hs_m: np.ndarray
    tp_s: np.ndarray

    def hourly(self, start_s: float, hours: int) -> tuple[np.ndarray, np.ndarray]:
        """Per hour from ``start_s``: the highest Hs and the Tp at that moment (NaN: not covered)."""
        grid = start_s + np.arange(0.0, hours * HOUR_S, STEP_S)
        hs = np.interp(grid, self.times_s, self.hs_m)
        tp = np.interp(grid, self.times_s, self.tp_s)
        outside = (grid < self.times_s[0]) | (grid > self.times_s[-1])
        if self.times_s.size == 1:
            outside = np.abs(grid - self.times_s[0]) >= HOUR_S / 2
        hs[outside] = np.nan
        per = int(HOUR_S / STEP_S)
        hs_h, tp_h = hs.reshape(hours, per), tp.reshape(hours, per)
        hs_max = np.full(hours, np.nan)
        tp_at = np.full(hours, np.nan)
        for i in range(hours):
            ok = np.isfinite(hs_h[i])
            if ok.any():
                j = int(np.flatnonzero(ok)[np.argmax(hs_h[i][ok])])
                hs_max[i], tp_at[i] = hs_h[i][j], tp_h[i][j]
        return hs_max, tp_at


def to_forecast(catalogue: Catalogue, incoming: WaveForecastIn, source: str) -> WaveForecast:
    """Validate the station (ValueError when it does not measure waves) and store sorted points;
    ``source`` is the authenticated forecaster's public name, never the payload's free text."""
    station = catalogue.station(incoming.station)
    if station is None or "wave_height" not in {k.value for k in station.kinds}:
        msg = f"unknown wave station {incoming.station!r}"
        raise ValueError(msg)
    points = sorted(incoming.points, key=lambda p: p.ts)
    return WaveForecast(
        station.id,
        incoming.issued.timestamp(),
        source,
        np.array([p.ts.timestamp() for p in points]),
        np.array([p.hs_m for p in points]),
        np.array([p.tp_s for p in points]),
    )


def _table(catalogue: Catalogue, station: Station) -> object:
    rules = catalogue.rules
    return rules.waves_offshore if station.exposure == "offshore" else rules.waves_nearshore


def waves_with_forecast(
    a: Assessment, fc: WaveForecast, catalogue: Catalogue, now_s: float
) -> Assessment:
    """The waves assessment with the forecast's hourly outlook and, if higher, its level."""
    station = catalogue.station(a.place)
    if station is None:
        return a
    table = _table(catalogue, station)
    hours = catalogue.rules.outlook_hours
    hs_h, _ = fc.hourly(now_s, hours)
    covered = np.isfinite(hs_h)
    if not covered.any():
        return a
    thresholds = table.thresholds()  # type: ignore[attr-defined]
    per_hour = np.full(hours, UNKNOWN, dtype=np.int64)
    per_hour[covered] = waves.wave_level(hs_h[covered], station.exposure, thresholds=thresholds)
    outlook = tuple(int(x) for x in per_hour)
    top = int(per_hour.max())
    peak = int(np.nanargmax(hs_h))
    note = {
        "forecast_hs_m": round(float(hs_h[peak]), 2),
        "forecast_level": top,
        "forecast_source": fc.source,
        "forecast_issued_s": fc.issued_s,
    }
    if a.level != UNKNOWN and a.level >= top:
        return Assessment(
            a.place, a.hazard, a.level, {**a.explanation, **note}, a.reason, outlook, a.data_s
        )
    onset = now_s + HOUR_S * int(np.flatnonzero(per_hour == top)[0])
    exp = levels.explain(
        Hazard.WAVES, a.place, float(hs_h[peak]), "m", thresholds,
        peak_time_s=now_s + HOUR_S * peak, source=table.source, status=table.status,  # type: ignore[attr-defined]
    )  # fmt: skip
    body: dict[str, object] = {
        **exp.to_dict(),
        **note,
        "exposure": station.exposure,
        "onset_s": onset if top > 0 else None,
        "observed_level": None if a.level == UNKNOWN else a.level,
    }
    if a.level == UNKNOWN:
        body["observations"] = {"status": "no data", "reason": a.reason}
    return Assessment(a.place, a.hazard, top, body, a.reason, outlook, a.data_s)


def overtopping_with_forecast(
    a: Assessment, fc: WaveForecast, catalogue: Catalogue, now_s: float
) -> Assessment:
    """Overtopping hour by hour on the forecast water level with the forecast waves."""
    seg = next((s for s in catalogue.segments if s.id == a.place), None)
    if seg is None or not a.water_hourly_m or a.level == UNKNOWN:
        return a  # no forecast water level, or no observed waves: nothing to combine with
    hours = len(a.water_hourly_m)
    hs_h, tp_h = fc.hourly(now_s, hours)
    table = catalogue.rules.overtopping_lps_per_m
    outlook = list(a.outlook) or [UNKNOWN] * hours
    used = 0
    for i in np.flatnonzero(np.isfinite(hs_h) & np.isfinite(tp_h)):
        try:
            outlook[i], _ = assess_segment(
                seg, table, water_m=a.water_hourly_m[i], hm0_m=float(hs_h[i]), tp_s=float(tp_h[i])
            )
        except OutsideValidity:
            outlook[i] = UNKNOWN
        used += 1
    if not used:
        return a
    top = max(outlook)
    body: dict[str, object] = {
        **a.explanation,
        "outlook_method": "forecast hourly water level with forecast waves where the wave"
        " forecast covers the hour, the last observed waves elsewhere",
        "forecast_source": fc.source,
        "forecast_issued_s": fc.issued_s,
        "forecast_level": top,
    }
    level = a.level
    if top > a.level:
        level = top
        body.update(
            level=top,
            colour=levels.COLOUR_OF_CODE[top + 1],
            onset_s=now_s + HOUR_S * outlook.index(top),
            observed_level=a.level,
        )
    return Assessment(
        a.place, a.hazard, level, body, a.reason, tuple(outlook), a.data_s, a.water_hourly_m
    )


def wave_forecast_dict(f: WaveForecast) -> dict[str, object]:
    """A wave forecast as the API sends it (Hs in metres, Tp in seconds)."""
    return {
        "station": f.station,
        "issued_s": f.issued_s,
        "source": f.source,
        "points": [
            {"ts_s": float(t), "hs_m": float(h), "tp_s": float(p)}
            for t, h, p in zip(f.times_s, f.hs_m, f.tp_s, strict=True)
        ],
    }
