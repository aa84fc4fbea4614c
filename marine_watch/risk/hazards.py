"""Assess every hazard of every station and dike segment from the live coast state.

Pure with respect to I/O (state in, assessments out); runs in the numerics executor. Fresh data of a
stale or silent station never drives a colour: its assessments are UNKNOWN with the reason, and
:mod:`marine_watch.risk.last_known` then keeps each one's last known level (docs/WARNINGS.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from marine_watch.risk.assessment import Assessment, SurgeView, unknown
from marine_watch.risk.dikes import OutsideValidity, assess_segment, segment_levels
from marine_watch.risk.state import CoastState
from marine_watch.risk.surge import assess_surge
from marine_watch.risk.wind import assess_red_tide, assess_wind
from risk_models import levels, tide, waves
from risk_models.types import UNKNOWN, Hazard
from sensors.catalogue import Catalogue, DikeSegment, HazardTable, RiskRules, Station
from sensors.reading import Kind

HOUR_S = 3600.0
__all__ = ["Assessment", "Assessor", "SurgeView"]


@dataclass
class Assessor:
    """Evaluates all hazards at ``now_s``."""

    catalogue: Catalogue
    constants: Mapping[str, tide.TideConstants] = field(default_factory=dict)

    def station_status(
        self, state: CoastState, station: Station, now_s: float
    ) -> tuple[str, str | None]:
        """'ok', 'stale' or 'no_data', with the reason when not ok."""
        seen = state.last_seen_s.get(station.id)
        if seen is None:
            return "no_data", "no reading received yet"
        limit = self.catalogue.rules.stale_after_intervals * station.expected_interval_s
        age = now_s - seen
        if age > limit:
            return (
                "stale",
                f"no reading for {age / 60:.0f} min (expected every {station.expected_interval_s / 60:.0f} min)",
            )
        return "ok", None

    def assess(self, state: CoastState, now_s: float) -> list[Assessment]:
        """Every station hazard and dike segment assessed at ``now_s`` (unknown where data lacks)."""
        out: list[Assessment] = []
        views: dict[str, SurgeView] = {}
        for station in self.catalogue.stations:
            status, reason = self.station_status(state, station, now_s)
            for hazard in _hazards_of(station, self.catalogue.rules):
                if status != "ok":
                    out.append(unknown(station.id, hazard, reason or status))
                    continue
                assessment, view = self._assess_station(state, station, hazard, now_s)
                out.append(assessment)
                if view is not None:
                    views[station.id] = view
        for segment in self.catalogue.segments:
            out.append(self._overtopping(state, segment, views, now_s))
        return out

    def _assess_station(
        self, state: CoastState, station: Station, hazard: Hazard, now_s: float
    ) -> tuple[Assessment, SurgeView | None]:
        rules = self.catalogue.rules
        if hazard == Hazard.STORM_SURGE:
            constants = self.constants.get(station.id)
            max_age = self._max_age(station)
            return assess_surge(state, station, constants, rules, now_s, max_age)
        if hazard == Hazard.WAVES:
            return self._waves(state, station, now_s), None
        if hazard == Hazard.WIND:
            return assess_wind(state, station, rules, now_s), None
        return assess_red_tide(state, station, rules, now_s), None

    def _max_age(self, station: Station) -> float:
        return self.catalogue.rules.stale_after_intervals * station.expected_interval_s

    def _waves(self, state: CoastState, station: Station, now_s: float) -> Assessment:
        t, hs = state.window(station.id, Kind.WAVE_HEIGHT, now_s - HOUR_S, now_s + 1)
        if hs.size == 0:
            return unknown(station.id, Hazard.WAVES, "no valid wave reading in the last hour")
        table = (
            self.catalogue.rules.waves_offshore
            if station.exposure == "offshore"
            else self.catalogue.rules.waves_nearshore
        )
        value = float(hs[-1])
        level = int(
            waves.wave_level(np.array([value]), station.exposure, thresholds=table.thresholds())[0]
        )
        exp = levels.explain(
            Hazard.WAVES,
            station.id,
            value,
            "m",
            table.thresholds(),
            peak_time_s=float(t[-1]),
            source=table.source,
            status=table.status,
        )
        return Assessment(
            station.id,
            Hazard.WAVES,
            level,
            {**exp.to_dict(), "exposure": station.exposure},
            data_s=float(t[-1]),
        )

    def _overtopping(
        self, state: CoastState, seg: DikeSegment, views: Mapping[str, SurgeView], now_s: float
    ) -> Assessment:
        view = views.get(seg.tide_station)
        wave_station = self.catalogue.station(seg.wave_station)
        if view is None or wave_station is None:
            return unknown(
                seg.id, Hazard.OVERTOPPING, f"no valid water level from {seg.tide_station}"
            )
        max_age = self._max_age(wave_station)
        hs = state.latest(seg.wave_station, Kind.WAVE_HEIGHT, now_s=now_s, max_age_s=max_age)
        tp = state.latest(seg.wave_station, Kind.WAVE_PERIOD, now_s=now_s, max_age_s=max_age)
        if hs is None or tp is None:
            return unknown(seg.id, Hazard.OVERTOPPING, f"no valid waves from {seg.wave_station}")
        table = self.catalogue.rules.overtopping_lps_per_m
        try:
            level, body = assess_segment(
                seg,
                table,
                water_m=view.water_m,
                hm0_m=hs[1],
                tp_s=tp[1],
                peak_time_s=view.peak_time_s,
            )
        except OutsideValidity as exc:
            return unknown(seg.id, Hazard.OVERTOPPING, f"outside EurOtop 2018 validity: {exc}")
        tide_seen = state.last_seen_s.get(seg.tide_station, now_s)
        outlook = overtopping_outlook(seg, table, view.hourly_m, hs[1], tp[1])
        if outlook:
            body = {**body, "outlook_method": OVERTOPPING_OUTLOOK_METHOD}
        return Assessment(
            seg.id,
            Hazard.OVERTOPPING,
            level,
            body,
            outlook=outlook,
            data_s=min(hs[0], tp[0], tide_seen),
            water_hourly_m=view.hourly_m,
        )


OVERTOPPING_OUTLOOK_METHOD = (
    "forecast hourly water level (predicted tide + forecast surge) with the last observed waves"
)


def overtopping_outlook(
    seg: DikeSegment, table: HazardTable, hourly_m: Sequence[float], hm0_m: float, tp_s: float
) -> tuple[int, ...]:
    """Hourly overtopping levels ahead: each hour's highest forecast water, the waves held.

    The last observed Hm0 and Tp are held over the outlook; a wave forecast replaces them in the
    hours it covers (marine_watch/inputs/wave_forecasts.py; docs/WARNINGS.md, the outlook). All hours are
    computed at once (:func:`marine_watch.risk.dikes.segment_levels`); when one is outside EurOtop's
    validity they are computed one by one, and that hour has no forecast (-1).
    """
    if not hourly_m:
        return ()
    try:
        found = segment_levels(seg, table, np.asarray(hourly_m), hm0_m=hm0_m, tp_s=tp_s)
    except OutsideValidity:
        return overtopping_outlook_each_hour(seg, table, hourly_m, hm0_m, tp_s)
    return tuple(int(x) for x in found)


def overtopping_outlook_each_hour(
    seg: DikeSegment, table: HazardTable, hourly_m: Sequence[float], hm0_m: float, tp_s: float
) -> tuple[int, ...]:
    """The same outlook with one EurOtop evaluation per hour (the reference the tests compare)."""
    out = []
    for water_m in hourly_m:
        try:
            level, _ = assess_segment(seg, table, water_m=water_m, hm0_m=hm0_m, tp_s=tp_s)
        except OutsideValidity:
            level = UNKNOWN
        out.append(level)
    return tuple(out)


def _hazards_of(station: Station, rules: RiskRules) -> list[Hazard]:
    kinds = set(station.kinds)
    out = []
    if Kind.TIDE_LEVEL in kinds and surge_rule(station, rules) != "none":
        out.append(Hazard.STORM_SURGE)
    if Kind.WAVE_HEIGHT in kinds:
        out.append(Hazard.WAVES)
    if Kind.WIND_SPEED in kinds:
        out.append(Hazard.WIND)
    if Kind.CHLOROPHYLL_A in kinds:
        out.append(Hazard.RED_TIDE)
    return out


def surge_rule(station: Station, rules: RiskRules) -> str:
    """Which storm-surge rule a tide station has: its warning tide levels, the SAMPLE fallback, none."""
    if Kind.TIDE_LEVEL not in station.kinds:
        return "none"
    if station.warning_levels is not None:
        return "warning tide levels"
    if rules.surge_fallback_cm is not None and station.tide_constants:
        return "surge-only fallback (SAMPLE, docs/DOMAIN.md §1.3)"
    return "none"
