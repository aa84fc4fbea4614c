"""The package map: imports point down only (risk_models ← sensors ← marine_watch ← tests)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_roots(pkg: str) -> Iterator[tuple[Path, str]]:
    for path in (ROOT / pkg).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                yield from ((path, a.name.partition(".")[0]) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield path, node.module.partition(".")[0]


def test_risk_models_imports_only_stdlib_numpy_scipy() -> None:
    """risk_models is pure numerics: no I/O modules, nothing but stdlib, numpy and scipy."""
    io = {
        "asyncio",
        "socket",
        "sqlite3",
        "subprocess",
        "threading",
        "logging",
        "os",
        "io",
        "shutil",
        "pathlib",
    }
    allowed = (set(sys.stdlib_module_names) - io) | {"numpy", "scipy", "risk_models"}
    assert [(str(p), m) for p, m in imported_roots("risk_models") if m not in allowed] == []


def test_sensors_never_import_the_service_or_its_io_libraries() -> None:
    """sensors may use risk_models and pydantic, never marine_watch, aiomqtt, httpx or fastapi."""
    banned = {"marine_watch", "aiomqtt", "httpx", "fastapi", "paho", "uvicorn", "websockets"}
    assert [(str(p), m) for p, m in imported_roots("sensors") if m in banned] == []


def test_marine_watch_never_imports_tests() -> None:
    """The service does not depend on its tests."""
    assert [
        (str(p), m) for p, m in imported_roots("marine_watch") if m in {"tests", "benchmarks"}
    ] == []


def test_modules_stay_small() -> None:
    """One concept per module, under 400 lines (STYLE.md rule 2)."""
    big = [
        (str(p.relative_to(ROOT)), n)
        for pkg in ("risk_models", "sensors", "marine_watch")
        for p in (ROOT / pkg).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    ]
    assert big == []
