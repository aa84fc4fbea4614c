"""Helpers shared by tests (not fixtures)."""

from pathlib import Path

import xmlschema

#: Reference data of the repository (reference/README.md: source, licence, units, traps per file).
REFERENCE = Path(__file__).resolve().parents[1] / "reference"
CAP_XSD = REFERENCE / "cap" / "CAP-v1.2.xsd"


def cap_schema() -> xmlschema.XMLSchema:
    """The official OASIS CAP 1.2 schema (reference/README.md)."""
    return xmlschema.XMLSchema(str(CAP_XSD))
