"""The repository explains itself: every cited source resolves, and the README links the docs."""

import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.helpers import ROOT, sections, sources_in, unresolved

CONFIG = ROOT / "config"
#: Sections other code and config cite by number (their numbering follows the team's domain notes).
CITED_SECTIONS = (
    "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "3.3",
    "4.2", "4.3", "4.4", "4.5", "5.1", "5.3", "5.4", "6.1", "6.2", "6.3", "7", "8", "9", "10",
)  # fmt: skip


#: config files whose ``source`` keys are names, not provenance: a forecaster's ``source`` is the
#: name the public sees on its forecasts.
NOT_PROVENANCE = ("mqtt_accounts.toml",)


def config_sources() -> list[tuple[str, str]]:
    """(file, source) for every ``source`` in config/: TOML, JSON and GeoJSON files."""
    found = []
    for path in sorted(CONFIG.rglob("*")):
        if path.name in NOT_PROVENANCE:
            continue
        if path.suffix == ".toml":
            doc: object = tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in (".json", ".geojson"):
            doc = json.loads(path.read_text(encoding="utf-8"))
        else:
            continue
        found += [(str(path.relative_to(ROOT)), s) for s in sources_in(doc)]
    return found


def test_config_has_sources_to_check() -> None:
    """Thresholds, warning levels, QC and tide constants all carry a source."""
    files = {f for f, _ in config_sources()}
    assert {"config/thresholds.toml", "config/stations.toml", "config/qc.toml"} <= files
    assert any(f.startswith("config/tide_constants/") for f in files)


@pytest.mark.parametrize(("file", "source"), config_sources())
def test_every_config_source_resolves_to_a_section(file: str, source: str) -> None:
    """A config ``source`` cites docs/<doc>.md §N.M and that heading exists."""
    assert unresolved(source) == [], file


def test_the_domain_document_keeps_its_numbering() -> None:
    """The section numbers that code, config and API answers cite exist, with content under them."""
    text = (ROOT / "docs" / "DOMAIN.md").read_text(encoding="utf-8")
    assert set(CITED_SECTIONS) <= sections(ROOT / "docs" / "DOMAIN.md")
    for number in CITED_SECTIONS:
        body = re.split(rf"^#{{2,3}} {re.escape(number)}\.? .*$", text, flags=re.MULTILINE)[1]
        body = re.split(r"^#{2,3} \d", body, flags=re.MULTILINE)[0]
        assert len(body.strip()) > 200, f"§{number} is nearly empty"


def test_resolution_fails_on_what_it_should() -> None:
    """A missing document, a missing section and a source without citation are all reported."""
    assert unresolved("docs/DOMAIN.md §1.5: S20 converted") == []
    assert unresolved("docs/DOMAIN.md §1.3 and §7") == []
    assert unresolved("DOMAIN.md §1.5") != []  # a file the repository does not have at its root
    assert unresolved("docs/DOMAIN.md §42.1") != []
    assert unresolved("docs/NOWHERE.md §1") != []
    assert unresolved("SAMPLE: interpolated") != []


def test_readme_first_screen_links_the_docs() -> None:
    """The first screen of the README (its first 20 lines) links the architecture and domain docs."""
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:20])
    for doc in ("docs/ARCHITECTURE.md", "docs/DOMAIN.md"):
        assert f"]({doc})" in first_screen
        assert (ROOT / doc).is_file()


def test_markdown_links_inside_the_repository_resolve() -> None:
    """Relative links of README.md, BENCHMARKS.md, docs/ and reference/ point at existing files."""
    pages = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *(ROOT / "docs").glob("*.md")]
    pages += [ROOT / "reference" / "README.md", ROOT / "benchmarks" / "baselines" / "README.md"]
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in pages
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
        if "://" not in target and not (page.parent / target).exists()
    ]
    assert broken == []


STATION = re.compile(r"_(honolulu|vlissingen|hoekvanholland|halifax)_")


def test_reference_files_are_documented_and_used() -> None:
    """Each file in reference/ has its notes in the README there, and a test, benchmark or the
    README reads it (per-station files may be named by a pattern: ``_<station>_`` in the notes,
    ``_{station}_`` in a test)."""
    notes = (ROOT / "reference" / "README.md").read_text(encoding="utf-8")
    readers = "".join(
        p.read_text(encoding="utf-8")
        for p in [*ROOT.glob("tests/**/*.py"), *ROOT.glob("benchmarks/*.py"), ROOT / "README.md"]
    )
    for path in sorted((ROOT / "reference").rglob("*")):
        if path.is_dir() or path.name == "README.md":
            continue
        name = path.name
        assert name in notes or STATION.sub("_<station>_", name) in notes, name
        assert name in readers or STATION.sub("_{station}_", name) in readers, name


def test_reference_data_stays_lean() -> None:
    """The reference data stays under 10 MB."""
    size = sum(p.stat().st_size for p in (ROOT / "reference").rglob("*") if p.is_file())
    assert size < 10 * 1024 * 1024, f"{size / 1e6:.1f} MB"


def test_paths_are_the_repository_root(tmp_path: Path) -> None:
    """ROOT is this checkout (the folder that holds pyproject.toml)."""
    assert (ROOT / "pyproject.toml").is_file()
    assert not str(tmp_path).startswith(str(ROOT))
