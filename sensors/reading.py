"""A reading: one value of one kind from one station at one time, as the service keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a station measures (MQTT contract: ``marine/v1/{station}/{kind}``)."""

    TIDE_LEVEL = "tide_level"
    WAVE_HEIGHT = "wave_height"
    WAVE_PERIOD = "wave_period"
    WAVE_DIRECTION = "wave_direction"
    WIND_SPEED = "wind_speed"
    WIND_DIRECTION = "wind_direction"
    WIND_GUST = "wind_gust"
    AIR_PRESSURE = "air_pressure"
    WATER_TEMP = "water_temp"
    CHLOROPHYLL_A = "chlorophyll_a"
    DISSOLVED_OXYGEN = "dissolved_oxygen"
    PH = "ph"
    SALINITY = "salinity"


#: Canonical unit per kind; payloads must state this unit (or omit it).
UNITS: dict[Kind, str] = {
    Kind.TIDE_LEVEL: "m",
    Kind.WAVE_HEIGHT: "m",
    Kind.WAVE_PERIOD: "s",
    Kind.WAVE_DIRECTION: "deg",
    Kind.WIND_SPEED: "m/s",
    Kind.WIND_DIRECTION: "deg",
    Kind.WIND_GUST: "m/s",
    Kind.AIR_PRESSURE: "hPa",
    Kind.WATER_TEMP: "degC",
    Kind.CHLOROPHYLL_A: "ug/L",
    Kind.DISSOLVED_OXYGEN: "mg/L",
    Kind.PH: "pH",
    Kind.SALINITY: "PSU",
}


class QcFlag(StrEnum):
    """Quality-control flag stored as a tag with every reading (kept, never deleted)."""

    OK = "ok"
    RANGE = "range"  # outside the physical range of its kind
    SPIKE = "spike"
    FLATLINE = "flatline"
    DUPLICATE = "duplicate"
    FUTURE = "future"


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading. ``ts_ns`` is UTC nanoseconds since the epoch; the point key is (station, kind, ts_ns)."""

    station: str
    kind: str
    ts_ns: int
    value: float
    qc: str = QcFlag.OK.value

    @property
    def key(self) -> tuple[str, str, int]:
        """Idempotency key of the point in every store."""
        return (self.station, self.kind, self.ts_ns)
