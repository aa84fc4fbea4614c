"""Shared vocabulary of the risk models: levels, hazards, array aliases, explanations."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int8]

#: Level value used in integer arrays where the inputs were missing (NaN): "no data", never "none".
UNKNOWN = -1


class Level(IntEnum):
    """Warning level, ordered so that ``max()`` is the more severe (DOMAIN.md §1.2)."""

    NONE = 0
    BLUE = 1  # IV 一般
    YELLOW = 2  # III 较重
    ORANGE = 3  # II 严重
    RED = 4  # I 特别严重

    @property
    def colour(self) -> str:
        """Colour word: none, blue, yellow, orange, red."""
        return self.name.lower()

    @property
    def roman(self) -> str:
        """Roman grade of the Chinese plans (IV blue … I red); empty for none."""
        return ("", "IV", "III", "II", "I")[self.value]

    @property
    def colour_zh(self) -> str:
        """Chinese colour word."""
        return ("无", "蓝色", "黄色", "橙色", "红色")[self.value]

    @classmethod
    def from_colour(cls, colour: str) -> Level:
        """Parse a colour word (case-insensitive)."""
        try:
            return cls[colour.strip().upper()]
        except KeyError:
            msg = f"unknown colour {colour!r}; expected none, blue, yellow, orange or red"
            raise ValueError(msg) from None


COLOURS: tuple[str, ...] = ("blue", "yellow", "orange", "red")


class Hazard(StrEnum):
    """The hazards that produce a level."""

    STORM_SURGE = "storm_surge"
    WAVES = "waves"
    WIND = "wind"
    OVERTOPPING = "overtopping"
    RED_TIDE = "red_tide"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Four lower bounds, blue..red, in one unit; a level is reached at ``value >= bound``."""

    blue: float
    yellow: float
    orange: float
    red: float

    def __post_init__(self) -> None:
        bounds = self.as_tuple()
        if not all(np.isfinite(bounds)):
            msg = f"thresholds must be finite, got {bounds}"
            raise ValueError(msg)
        if not all(lo < hi for lo, hi in itertools.pairwise(bounds)):
            msg = f"thresholds must rise strictly from blue to red, got {bounds}"
            raise ValueError(msg)

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Return (blue, yellow, orange, red)."""
        return (self.blue, self.yellow, self.orange, self.red)

    def bound(self, level: Level) -> float | None:
        """Lower bound of ``level`` (None for NONE)."""
        return None if level == Level.NONE else self.as_tuple()[level.value - 1]
