"""What to do per hazard and colour (config/advice.toml): CAP responseType, instruction, resident advice.

Wording in English and Chinese; the table carries its status tag and source (SAMPLE policy based on
docs/DOMAIN.md §6.2). Every hazard has an entry for every colour.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from risk_models.types import COLOURS, Hazard

ResponseType = Literal["Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess"]
Status = Literal["SRC", "X-CHECK", "RECALLED", "SAMPLE", "UNKNOWN"]
Lines = tuple[str, ...]


class AdviceEntry(BaseModel):
    """One hazard at one colour."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    response_type: ResponseType
    instruction_en: str = Field(min_length=1, max_length=500)
    instruction_zh: str = Field(min_length=1, max_length=500)
    resident_en: Lines = Field(min_length=1)
    resident_zh: Lines = Field(min_length=1)


class Advice(BaseModel):
    """The advice table."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    status: Status
    source: str
    none_en: Lines
    none_zh: Lines
    unknown_en: Lines
    unknown_zh: Lines
    hazards: dict[Hazard, dict[Literal["blue", "yellow", "orange", "red"], AdviceEntry]]

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = [
            f"{h.value}.{c}" for h in Hazard for c in COLOURS if c not in self.hazards.get(h, {})
        ]
        if missing:
            msg = f"no advice for {', '.join(missing)}"
            raise ValueError(msg)
        return self

    def entry(self, hazard: str, level: int) -> AdviceEntry | None:
        """The entry of a hazard at a level (None for none and unknown)."""
        if not 1 <= level <= len(COLOURS):
            return None
        return self.hazards[Hazard(hazard)][COLOURS[level - 1]]  # type: ignore[index]

    def resident(self, hazard: str | None, level: int) -> dict[str, object]:
        """The resident advice for a colour and the hazard that drove it."""
        entry = self.entry(hazard, level) if hazard in set(Hazard) else None
        if entry is not None:
            en, zh, response = entry.resident_en, entry.resident_zh, entry.response_type
        elif level == 0:
            en, zh, response = self.none_en, self.none_zh, None
        else:
            en, zh, response = self.unknown_en, self.unknown_zh, None
        return {
            "hazard": hazard if entry else None,
            "level": level,
            "response_type": response,
            "en": list(en),
            "zh": list(zh),
            "status": self.status,
            "source": self.source,
        }
