"""The base of the answer models, and the type of an object whose keys vary."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

#: an object whose keys vary (per hazard, rule or formula); see the route's description
Open = dict[str, Any]


class Answer(BaseModel):
    """Base of the answers: fields in the order they are sent; a key the model does not list is
    passed through rather than dropped (the answer stays exactly what the route built)."""

    model_config = ConfigDict(extra="allow")
