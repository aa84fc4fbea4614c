"""Helpers shared by tests (not fixtures)."""

import re
from collections.abc import Iterator
from pathlib import Path

import xmlschema

#: Reference data of the repository (reference/README.md: source, licence, units, traps per file).
REFERENCE = Path(__file__).resolve().parents[1] / "reference"
CAP_XSD = REFERENCE / "cap" / "CAP-v1.2.xsd"


def cap_schema() -> xmlschema.XMLSchema:
    """The official OASIS CAP 1.2 schema (reference/README.md)."""
    return xmlschema.XMLSchema(str(CAP_XSD))


ROOT = REFERENCE.parent
#: A citation in a ``source``: a document of the repository, then the sections it names.
CITATION = re.compile(r"(?P<doc>docs/[\w./-]+\.md)|§(?P<section>\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", re.MULTILINE)


def sections(doc: Path) -> set[str]:
    """The numbered section headings of a Markdown document ("1", "1.3", ...)."""
    return set(HEADING.findall(doc.read_text(encoding="utf-8")))


def unresolved(source: str) -> list[str]:
    """What in a ``source`` does not resolve to a section heading of a document in the repository.

    A source must cite at least one ``docs/<file>.md §N[.M]``; each ``§`` belongs to the document
    named last before it.
    """
    problems: list[str] = []
    doc: str | None = None
    cited = 0
    for m in CITATION.finditer(source):
        if m.group("doc"):
            doc = m.group("doc")
            if not (ROOT / doc).is_file():
                problems.append(f"{source!r}: no file {doc}")
        elif doc is not None and (ROOT / doc).is_file():
            cited += 1
            if m.group("section") not in sections(ROOT / doc):
                problems.append(f"{source!r}: {doc} has no section §{m.group('section')}")
    if not cited:
        problems.append(f"{source!r}: cites no docs/<file>.md §section")
    return problems


def sources_in(value: object) -> Iterator[str]:
    """Every string under a ``source`` key, at any depth of a JSON-like value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "source" and isinstance(item, str):
                yield item
            else:
                yield from sources_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from sources_in(item)
