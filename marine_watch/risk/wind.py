"""Wind and red-tide assessments of one station.

Wind: observed wind against the CMA gale signal criteria (docs/DOMAIN.md §2.2), labelled
"observed wind (gale criteria)"; a typhoon forecast switches the station to the typhoon signal
criteria with their lead times (:mod:`marine_watch.inputs.forecasts`, docs/DOMAIN.md §2.1). The mean wind
is the mean of the readings over ``rules.wind.mean_window_s`` (10 min by default): which averaging
period the CMA criteria mean is [UNKNOWN] (docs/DOMAIN.md §2.3), and the explanation says so.

Red tide: 1-h mean chlorophyll-a against the SAMPLE table, with the dissolved-oxygen escalators of
docs/DOMAIN.md §3.3 (:func:`risk_models.redtide.red_tide_level`).
"""

from __future__ import annotations

import math

import numpy as np

from marine_watch.risk.assessment import Assessment, unknown
from marine_watch.risk.state import CoastState
from risk_models import levels, redtide, wind
from risk_models.types import UNKNOWN, Hazard
from sensors.catalogue import RiskRules, Station
from sensors.reading import Kind

HOUR_S = 3600.0
GALE_LABEL = "observed wind (gale criteria)"
TYPHOON_LABEL = "typhoon signal criteria"


def wind_body(
    station: str,
    mean_v: float,
    gust_v: float,
    level: int,
    rules: RiskRules,
    *,
    criteria: str,
) -> dict[str, object]:
    """The explanation of a wind level (shared by the observed and the typhoon criteria)."""
    w = rules.wind
    return {
        "hazard": Hazard.WIND.value,
        "station": station,
        "value": None if math.isnan(mean_v) else round(mean_v, 2),
        "unit": "m/s",
        "gust": None if math.isnan(gust_v) else round(gust_v, 2),
        "beaufort": int(wind.beaufort(np.array([mean_v]))[0]) if not math.isnan(mean_v) else None,
        "level": level,
        "colour": levels.COLOUR_OF_CODE[level + 1],
        "criteria": criteria,
        "averaging": f"{w.mean_window_s / 60:g}-min mean of the readings",
        "averaging_status": w.averaging_status,
        "criteria_status": w.criteria_status,
        # the weaker of the two tags: the thresholds are checked, the averaging period is not
        "status": w.averaging_status,
        "source": w.source,
    }


def assess_wind(state: CoastState, station: Station, rules: RiskRules, now_s: float) -> Assessment:
    """Gale signal level of the observed wind (mean over the configured window, max gust)."""
    window = rules.wind.mean_window_s
    t, mean = state.window(station.id, Kind.WIND_SPEED, now_s - window, now_s + 1)
    _, gust = state.window(station.id, Kind.WIND_GUST, now_s - window, now_s + 1)
    if mean.size == 0:
        return unknown(
            station.id, Hazard.WIND, f"no valid wind reading in the last {window / 60:g} min"
        )
    mean_v = float(mean.mean())
    gust_v = float(gust.max()) if gust.size else float("nan")
    level = int(wind.gale_signal_level(np.array([mean_v]), np.array([gust_v]))[0])
    body = wind_body(station.id, mean_v, gust_v, level, rules, criteria=GALE_LABEL)
    return Assessment(station.id, Hazard.WIND, level, body, data_s=float(t[-1]))


def assess_red_tide(
    state: CoastState, station: Station, rules: RiskRules, now_s: float
) -> Assessment:
    """1-h mean chl-a against the SAMPLE table, raised by low dissolved oxygen (1-h mean)."""
    table = rules.red_tide_chla
    t, chla = state.window(station.id, Kind.CHLOROPHYLL_A, now_s - HOUR_S, now_s + 1)
    t_do, do = state.window(station.id, Kind.DISSOLVED_OXYGEN, now_s - HOUR_S, now_s + 1)
    esc = rules.red_tide_escalators
    do_mean = float(do.mean()) if do.size and esc is not None else float("nan")
    chla_mean = float(chla.mean()) if chla.size else float("nan")
    level = UNKNOWN
    if esc is not None:
        rule = redtide.RedTideRule(
            chla_ugl=table.thresholds(),
            do_orange_below_mgl=esc.do_orange_below_mgl,
            do_red_below_mgl=esc.do_red_below_mgl,
            ph_above=math.inf,  # pH + DO saturation: no buoy reports DO saturation
            do_saturation_above_pct=math.inf,
            persistence_h=redtide.SAMPLE_RULE.persistence_h,
        )
        level = int(
            redtide.red_tide_level(np.array([chla_mean]), do_mgl=np.array([do_mean]), rule=rule)[0]
        )
    elif chla.size:
        level = int(levels.classify(np.array([chla_mean]), table.thresholds())[0])
    if level == UNKNOWN:
        return unknown(
            station.id, Hazard.RED_TIDE, "no valid chlorophyll-a reading in the last hour"
        )
    exp: dict[str, object] = dict(
        levels.explain(
            Hazard.RED_TIDE,
            station.id,
            chla_mean,
            "ug/L",
            table.thresholds(),
            source=table.source,
            status=table.status,
        ).to_dict()
    )
    by_chla = exp["level"]
    exp.update(level=level, colour=levels.COLOUR_OF_CODE[level + 1])
    if esc is not None:
        exp["dissolved_oxygen_mgl"] = None if math.isnan(do_mean) else round(do_mean, 2)
        if level != by_chla:
            exp["escalated_by"] = {
                "dissolved_oxygen_mgl": round(do_mean, 2),
                "orange_below_mgl": esc.do_orange_below_mgl,
                "red_below_mgl": esc.do_red_below_mgl,
                "status": esc.status,
                "source": esc.source,
            }
        exp["not_evaluated"] = "pH + DO saturation escalator: DO saturation not measured"
    newest = max(float(t[-1]) if t.size else -math.inf, float(t_do[-1]) if t_do.size else -math.inf)
    return Assessment(station.id, Hazard.RED_TIDE, level, exp, data_s=newest)
