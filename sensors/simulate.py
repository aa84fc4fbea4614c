"""A simulated coast: real predicted tide plus a typhoon surge, waves, wind and water quality.

Pure and seeded: values are a function of time and the generator. The typhoon is shaped like the
upper end of In-Fa (2021) in Hangzhou Bay (docs/DOMAIN.md §1.5 and §5.4: 120–240 cm of surge along
north Zhejiang): a 2.4 m surge that peaks on a high water (the demo picks the top of the last spring
tide, see :func:`last_spring_high_water`), nearshore waves to ~3.8 m, wind to force 10 with gusts to
force 12, and pressure falling to ~960 hPa. SAMPLE scenario, not a hindcast.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from risk_models import tide
from sensors.catalogue import Station
from sensors.reading import Kind, Reading

HOUR_S = 3600.0
NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class Typhoon:
    """Storm shape; ``peak_s`` is when surge, waves and wind peak (UTC s)."""

    peak_s: float
    surge_peak_m: float = 2.4  # upper end of In-Fa's 120–240 cm (docs/DOMAIN.md §5.4)
    surge_rise_h: float = 9.0
    surge_fall_h: float = 6.0
    hs_near_peak_m: float = 3.8
    hs_off_peak_m: float = 7.5
    wind_peak_mps: float = 26.0
    gust_factor: float = 1.35
    pressure_drop_hpa: float = 48.0
    width_h: float = 10.0

    def envelope(self, t_s: float, width_h: float | None = None) -> float:
        """0..1 storm intensity, asymmetric in time (rises slower than it falls)."""
        dt_h = (t_s - self.peak_s) / HOUR_S
        scale = (width_h or self.width_h) * (1.0 if dt_h < 0 else 0.7)
        return math.exp(-0.5 * (dt_h / (scale / 2.0)) ** 2)

    def surge_m(self, t_s: float) -> float:
        """The typhoon surge at ``t_s`` (m): Gaussian around the peak, its rise and fall of their own widths."""
        dt_h = (t_s - self.peak_s) / HOUR_S
        scale = self.surge_rise_h if dt_h < 0 else self.surge_fall_h
        return self.surge_peak_m * math.exp(-0.5 * (dt_h / (scale / 2.0)) ** 2)


def align_peak_to_high_water(
    constants: tide.TideConstants, after_s: float, within_h: float = 14.0
) -> float:
    """The highest predicted high water in [after, after + within]: the worst time for a surge."""
    grid = after_s + np.arange(0.0, within_h * HOUR_S, 300.0)
    ext = tide.high_low_waters(grid, tide.predict(constants, grid))
    highs = ext.times_s[ext.is_high]
    if highs.size == 0:
        return after_s + within_h * HOUR_S / 2
    return float(highs[int(np.argmax(ext.heights_m[ext.is_high]))])


SPRING_NEAP_DAYS = 14.77  # M2-S2 beat period (docs/DOMAIN.md §5.3)


def last_spring_high_water(constants: tide.TideConstants, before_s: float) -> float:
    """Time of the highest predicted high water in the spring-neap cycle before ``before_s``.

    A surge is worst on the top of a spring tide (docs/DOMAIN.md §1.3: the colour follows the water
    level at high water), so the demo's storm peaks there.
    """
    grid = before_s - SPRING_NEAP_DAYS * 86400.0 + np.arange(0.0, SPRING_NEAP_DAYS * 86400.0, 300.0)
    ext = tide.high_low_waters(grid, tide.predict(constants, grid))
    highs = ext.times_s[ext.is_high]
    return float(highs[int(np.argmax(ext.heights_m[ext.is_high]))])


class CoastSimulator:
    """Readings of every station at a given time."""

    def __init__(
        self,
        stations: tuple[Station, ...],
        constants: Mapping[str, tide.TideConstants],
        storm: Typhoon | None,
        rng: np.random.Generator,
    ) -> None:
        self._stations = stations
        self._constants = constants
        self._storm = storm
        # one noise stream per region: the first region's is ``rng``, each further region's is
        # derived from it by name, so adding a region leaves every other region's readings as
        # they were
        first = stations[0].region if stations else ""
        streams: dict[str, np.random.Generator] = {first: rng}
        for st in stations:
            if st.region not in streams:
                key = [int(rng.bit_generator.seed_seq.entropy or 0), zlib.crc32(st.region.encode())]  # type: ignore[attr-defined]
                streams[st.region] = np.random.default_rng(key)
        self._rngs = {st.id: streams[st.region] for st in stations}

    def readings_at(self, t_s: float) -> list[Reading]:
        """The readings every station would publish at ``t_s``."""
        ts_ns = int(t_s * NS_PER_S)
        out = []
        for station in self._stations:
            for kind in station.kinds:
                value = self._value(station, kind, t_s)
                if value is not None:
                    out.append(Reading(station.id, kind.value, ts_ns, round(value, 3)))
        return out

    def _value(self, station: Station, kind: Kind, t_s: float) -> float | None:
        storm = self._storm
        env = storm.envelope(t_s) if storm else 0.0
        noise = float(self._rngs[station.id].normal())
        if kind == Kind.TIDE_LEVEL:
            return self._tide_level(station, t_s, noise)
        weather = _weather(station, storm, env, noise).get(kind)
        return weather if weather is not None else _water_quality(kind, t_s, noise)

    def _tide_level(self, station: Station, t_s: float, noise: float) -> float | None:
        constants = self._constants.get(station.id)
        if constants is None:
            return None
        surge = self._storm.surge_m(t_s) if self._storm else 0.0
        return (
            float(tide.predict(constants, np.array([t_s]))[0])
            + surge
            + 0.02 * noise
            + station.gauge_to_85_m
        )


def _weather(
    station: Station, storm: Typhoon | None, env: float, noise: float
) -> dict[Kind, float]:
    """Waves, wind and pressure at a station: calm values pushed towards the storm's by ``env``."""
    offshore = station.exposure == "offshore"
    peak_hs = (storm.hs_off_peak_m if offshore else storm.hs_near_peak_m) if storm else 0.0
    calm_hs = 1.2 if offshore else 0.6
    direction = (110.0 + 40.0 * env + 5.0 * noise) % 360.0
    wind_mean = 5.0 + ((storm.wind_peak_mps if storm else 5.0) - 5.0) * env
    return {
        Kind.WAVE_HEIGHT: max(0.1, calm_hs + (peak_hs - calm_hs) * env + 0.05 * noise),
        Kind.WAVE_PERIOD: 5.0 + 4.5 * env + 0.2 * noise,
        Kind.WAVE_DIRECTION: direction,
        Kind.WIND_DIRECTION: direction,
        Kind.WIND_SPEED: max(0.0, wind_mean + 0.8 * noise),
        Kind.WIND_GUST: max(
            0.0, wind_mean * (storm.gust_factor if storm else 1.3) + 1.2 * abs(noise)
        ),
        Kind.AIR_PRESSURE: 1008.0 - (storm.pressure_drop_hpa if storm else 0.0) * env + 0.3 * noise,
    }


def _water_quality(kind: Kind, t_s: float, noise: float) -> float | None:
    day = math.sin(2 * math.pi * ((t_s / 86400.0) % 1.0))
    values = {
        Kind.WATER_TEMP: 27.0 + 0.8 * day + 0.1 * noise,
        Kind.CHLOROPHYLL_A: max(0.0, 4.0 + 1.5 * day + 0.3 * noise),
        Kind.DISSOLVED_OXYGEN: 6.8 + 0.6 * day + 0.1 * noise,
        Kind.PH: 8.05 + 0.05 * day + 0.01 * noise,
        Kind.SALINITY: 18.0 + 0.3 * noise,
    }
    return values.get(kind)


def batch_payloads(readings: list[Reading]) -> dict[str, list[dict[str, object]]]:
    """Group readings per station as MQTT batch payload items (MQTT contract v1)."""
    out: dict[str, list[dict[str, object]]] = {}
    for r in readings:
        out.setdefault(r.station, []).append(
            {"ts": r.ts_ns // 1_000_000, "value": r.value, "kind": r.kind}
        )
    return out
