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


def readme_commands(section: str | None = None) -> list[str]:
    """The commands (``$ `` lines of console blocks) of README.md, in order; only those under the
    first heading containing ``section`` (down to the next heading of its level or above) if given."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    if section is not None:
        start = next(i for i, line in enumerate(lines) if line.startswith("#") and section in line)
        level = len(lines[start]) - len(lines[start].lstrip("#"))
        end = next(
            (
                i
                for i in range(start + 1, len(lines))
                if lines[i].startswith("#") and len(lines[i]) - len(lines[i].lstrip("#")) <= level
            ),
            len(lines),
        )
        lines = lines[start:end]
    commands, console = [], False
    for line in lines:
        if line.startswith("```"):
            console = line.strip() == "```console" and not console
            continue
        if console and line.startswith("$ "):
            commands.append(line[2:].strip())
    return commands
