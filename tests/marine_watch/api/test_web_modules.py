"""The pages' scripts are ES modules with explicit imports: one entry module per page, every
import resolves, no globals shared between scripts."""

import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

STATIC = ROOT / "marine_watch" / "web" / "static"
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
IMPORT = re.compile(r'^import\s+(?:\*\s+as\s+(\w+)|\{([^}]*)\})\s+from\s+"\./([\w.-]+\.js)";', re.M)
EXPORT = re.compile(r"^export\s+(?:async\s+)?(?:function|const|let)\s+(\w+)", re.M)
#: the namespaces the modules import each other as
NAMESPACES = ("MW", "CoastMap", "StationChart", "AlertsPanel")


@pytest.mark.parametrize(
    ("page", "entry"), [("index.html", "dashboard.js"), ("resident.html", "resident.js")]
)
def test_each_page_loads_one_module(page: str, entry: str) -> None:
    """One ``<script type="module">``, the page's entry module; no classic script."""
    tags = SCRIPT.findall((STATIC / page).read_text(encoding="utf-8"))
    assert tags == [f' type="module" src="/static/{entry}"']


def _modules() -> list[Path]:
    return sorted(STATIC.glob("*.js"))


@pytest.mark.parametrize("module", _modules(), ids=lambda p: p.name)
def test_imports_resolve_and_nothing_is_global(module: Path) -> None:
    """Each import names an existing module and only names it exports; no script writes to
    ``window``/``globalThis`` or uses a namespace it did not import."""
    text = module.read_text(encoding="utf-8")
    imported: set[str] = set()
    for namespace, names, target in IMPORT.findall(text):
        path = STATIC / target
        assert path.is_file(), f"{module.name} imports missing {target}"
        exports = set(EXPORT.findall(path.read_text(encoding="utf-8")))
        if namespace:
            imported.add(namespace)
        for name in filter(None, (n.strip() for n in names.split(","))):
            assert name in exports, f"{module.name} imports {name} that {target} does not export"
    assert not re.search(r"\b(window|globalThis)\.\w+\s*=[^=]", text)
    assert '"use strict"' not in text  # modules are strict; the marker says a classic script
    used = {ns for ns in NAMESPACES if re.search(rf"\b{ns}\.", text)}
    assert used <= imported, f"{module.name} uses {used - imported} without importing it"
