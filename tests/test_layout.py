"""The package map: imports point down only (risk_models ← sensors ← marine_watch ← tests), modules
stay small, and nothing in the repository reaches outside it."""

from __future__ import annotations

import ast
import os
import re
import subprocess
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


# --- the repository stands alone ---------------------------------------------------------------

#: Folders of this machine that a clone elsewhere does not have (the checkout's own path is added).
MACHINE_PATHS = ("/work/", "/home/", "/root/", "/opt/")
PARENTS = re.compile(r"__file__\)(?:\.resolve\(\))?((?:\.parent\b)*)(?:\.parents\[(\d+)\])?")
RELATIVE = re.compile(r"(?:\.\./)+[\w.\-/]*")


def tracked_text_files() -> Iterator[tuple[Path, str]]:
    """Every tracked text file (this one excepted: it spells the patterns it looks for)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        path = ROOT / name
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        try:
            yield path, path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary


def machine_paths(path: Path, text: str) -> list[str]:
    """Absolute folders of this machine named in ``text``."""
    needles = (*MACHINE_PATHS, f"{ROOT}/")
    return [f"{path.relative_to(ROOT)}: {n}" for n in needles if n in text]


def escaping_relatives(path: Path, text: str) -> list[str]:
    """``../`` paths in ``text`` that, seen from ``path``, resolve outside the checkout."""
    return [
        f"{path.relative_to(ROOT)}: {m.group(0)}"
        for m in RELATIVE.finditer(text)
        if not Path(os.path.normpath(path.parent / m.group(0))).is_relative_to(ROOT)
    ]


def escaping_parents(path: Path, text: str) -> list[str]:
    """``Path(__file__)`` climbs (``parents[N]``, ``.parent`` chains) above the checkout's root."""
    depth = len(path.relative_to(ROOT).parts)  # levels from the file up to the root
    out = []
    for m in PARENTS.finditer(text):
        up = m.group(1).count(".parent") + (int(m.group(2)) + 1 if m.group(2) else 0)
        if up > depth:
            out.append(f"{path.relative_to(ROOT)}: {m.group(0)} climbs {up} > {depth}")
    return out


def test_no_file_names_a_folder_of_this_machine() -> None:
    """Code, tests, docs, config and CLI help name no absolute folder of this machine."""
    assert [hit for p, text in tracked_text_files() for hit in machine_paths(p, text)] == []


def test_relative_paths_stay_inside_the_repository() -> None:
    """No ``../`` path (``../shared/...`` and the like) leaves the checkout."""
    assert [hit for p, text in tracked_text_files() for hit in escaping_relatives(p, text)] == []


def test_file_relative_paths_stay_inside_the_repository() -> None:
    """``Path(__file__).resolve().parents[N]`` never climbs above the root."""
    found = [
        hit
        for p, text in tracked_text_files()
        if p.suffix == ".py"
        for hit in escaping_parents(p, text)
    ]
    assert found == []


def test_the_checks_flag_what_they_are_for() -> None:
    """Each check finds an escape of its kind in a file two folders down, and passes a good one."""
    here = ROOT / "tests" / "risk_models" / "test_x.py"
    up3 = "parents[" + "3]"
    bad = (
        f'DATA = Path(__file__).resolve().{up3} / "shared"\nsee ../../../shared/data\n/wor' + "k/x"
    )
    good = 'DATA = Path(__file__).resolve().parents[2] / "reference"\nsee ../../BENCHMARKS.md\n'
    assert len(escaping_parents(here, bad)) == 1
    assert len(escaping_relatives(here, bad)) == 1
    assert len(machine_paths(here, bad)) == 1
    assert (
        escaping_parents(here, good) + escaping_relatives(here, good) + machine_paths(here, good)
        == []
    )
