"""Helpers shared by tests (not fixtures)."""

from pathlib import Path

import xmlschema

CAP_XSD = Path(__file__).resolve().parent / "data" / "cap" / "CAP-v1.2.xsd"


def cap_schema() -> xmlschema.XMLSchema:
    """The official OASIS CAP 1.2 schema (tests/data/README.md)."""
    return xmlschema.XMLSchema(str(CAP_XSD))
