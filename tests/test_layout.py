"""The package map: imports point down only (risk_models ← sensors ← marine_watch ← tests), modules
stay small, every module with logic has its unit tests, and nothing in the repository reaches
outside it."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _is_module(root: Path, dotted: str) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_in(root: Path, path: Path) -> Iterator[str]:
    """The modules ``path`` imports (absolute imports), at module level, in functions and under
    ``TYPE_CHECKING`` alike; ``from a.b import c`` names ``a.b.c`` when that is a module of ``root``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = node.module
            yield from (
                f"{module}.{a.name}" if _is_module(root, f"{module}.{a.name}") else module
                for a in node.names
            )


def imported_roots(pkg: str) -> Iterator[tuple[Path, str]]:
    for path in (ROOT / pkg).rglob("*.py"):
        yield from ((path, m.partition(".")[0]) for m in imports_in(ROOT, path))


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


# --- inside the service: imports point down the data flow ---------------------------------------

#: Each part of marine_watch (a sub-package or a top module) and its rank: a part imports only parts
#: of a lower rank, so the tree reads in the order data flows and no cycle can form between parts.
RANKS: dict[str, int] = {
    "errors": 0,
    "settings": 1,
    "clock": 1,
    "logs": 1,
    "metrics": 1,
    "coast": 2,  # what the coast is (config/)
    "store": 3,  # InfluxDB, SQLite, the spool
    "mqtt": 3,  # broker sessions, accounts, the embedded broker
    "auth": 4,
    "ingest": 4,  # MQTT → checks → store, dead letters
    "hub": 4,  # websocket fan-out
    "risk": 5,  # state, hazards, zones, pipeline
    "inputs": 6,  # forecasts, road notes
    "alerts": 6,  # the alert book and its delivery
    "retained": 7,  # colours and alerts on retained topics, and the API node's mirror of them
    "services": 8,  # the typed record of a node's services
    "api": 9,
    "app": 10,
    "hindcast": 10,
    "demo": 11,
    "cli": 12,
}
#: Parts that only the named parts may import (the API is wired in by the app alone).
ONLY_FROM: dict[str, set[str]] = {"api": {"app"}}


def part_of(module: str) -> str | None:
    """``marine_watch.risk.state`` → ``risk``; None outside the service."""
    parts = module.split(".")
    return parts[1] if parts[0] == "marine_watch" and len(parts) > 1 else None


def service_imports(root: Path) -> Iterator[tuple[str, str]]:
    """(importing module, imported module) for every import of ``root/marine_watch`` within it."""
    for path in (root / "marine_watch").rglob("*.py"):
        rel = path.relative_to(root).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        yield from ((name, t) for t in imports_in(root, path) if t.startswith("marine_watch."))


def wrong_imports(root: Path) -> list[str]:
    """Imports that point up the flow, into the API from elsewhere, or into an unranked part."""
    wrong = []
    for src, dst in service_imports(root):
        a, b = part_of(src), part_of(dst)
        if a is None or b is None or a == b:
            continue
        if a not in RANKS or b not in RANKS:
            wrong.append(f"{src} → {dst}: {a if a not in RANKS else b} has no rank in RANKS")
        elif b in ONLY_FROM and a not in ONLY_FROM[b]:
            wrong.append(f"{src} → {dst}: only {sorted(ONLY_FROM[b])} may import {b}")
        elif RANKS[b] >= RANKS[a]:
            wrong.append(f"{src} → {dst}: {a} ({RANKS[a]}) may not import {b} ({RANKS[b]})")
    return wrong


def module_cycles(root: Path) -> list[list[str]]:
    """Import cycles between modules of the service (type-only imports included)."""
    graph: dict[str, set[str]] = {}
    for src, dst in service_imports(root):
        graph.setdefault(src, set()).add(dst)
    cycles, state = [], dict.fromkeys(graph, 0)  # 0 new, 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt, 0) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif state.get(nxt, 0) == 0 and nxt in graph:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if state[node] == 0:
            visit(node, [node])
    return cycles


def test_imports_inside_the_service_point_down_the_data_flow() -> None:
    """risk never imports alerts or api, nothing but the app imports api, and so on (RANKS)."""
    assert wrong_imports(ROOT) == []


def test_no_import_cycle_between_modules_of_the_service() -> None:
    """No cycle, not even one kept alive by ``TYPE_CHECKING`` and string annotations."""
    assert module_cycles(ROOT) == []


def test_the_top_of_the_service_is_wiring_and_every_part_has_a_rank() -> None:
    """At most 12 modules at the top of marine_watch/; every module and sub-package is ranked."""
    top = ROOT / "marine_watch"
    modules = {p.stem for p in top.glob("*.py") if p.name != "__init__.py"}
    packages = {d.name for d in top.iterdir() if (d / "__init__.py").is_file()}
    assert len(modules) <= 12
    assert modules | packages == RANKS.keys()


def test_a_wrong_import_is_caught(tmp_path: Path) -> None:
    """The rules bite: risk importing the API, or alerts and risk importing each other, fail."""
    for pkg in ("risk", "alerts", "api"):
        (tmp_path / "marine_watch" / pkg).mkdir(parents=True)
        (tmp_path / "marine_watch" / pkg / "__init__.py").write_text("")
    (tmp_path / "marine_watch" / "risk" / "state.py").write_text(
        "from marine_watch.api import deps\nfrom marine_watch.alerts import book\n"
    )
    (tmp_path / "marine_watch" / "alerts" / "book.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from marine_watch.risk import state\n"
    )
    (tmp_path / "marine_watch" / "api" / "deps.py").write_text("")
    assert sorted(wrong_imports(tmp_path)) == [
        "marine_watch.risk.state → marine_watch.alerts.book: risk (5) may not import alerts (6)",
        "marine_watch.risk.state → marine_watch.api.deps: only ['app'] may import api",
    ]
    assert module_cycles(tmp_path) == [
        ["marine_watch.alerts.book", "marine_watch.risk.state", "marine_watch.alerts.book"]
    ]


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


# --- the unit tests mirror the service's tree ---------------------------------------------------

#: Modules with logic that have no unit test file of their own, and the test file that exercises
#: them: routes, answer models and the wiring over HTTP by tests/integration, the rest where named.
COVERED_ELSEWHERE: dict[str, str] = {
    "marine_watch/alerts/wording.py": "tests/marine_watch/risk/test_warning_rules.py",
    "marine_watch/api/answers/alerts.py": "tests/integration/test_typed_answers.py",
    "marine_watch/api/answers/base.py": "tests/integration/test_typed_answers.py",
    "marine_watch/api/answers/inputs.py": "tests/integration/test_typed_answers.py",
    "marine_watch/api/answers/ops.py": "tests/integration/test_typed_answers.py",
    "marine_watch/api/answers/places.py": "tests/integration/test_typed_answers.py",
    "marine_watch/api/answers/shapes.py": "tests/integration/test_api_answers.py",
    "marine_watch/api/answers/stations.py": "tests/integration/test_typed_answers.py",
    "marine_watch/api/deps.py": "tests/integration/test_api_answers.py",
    "marine_watch/api/routes/alerts.py": "tests/integration/test_surge_scenario.py",
    "marine_watch/api/routes/feeds.py": "tests/integration/test_surge_scenario.py",
    "marine_watch/api/routes/forecasts.py": "tests/security/test_forecasts.py",
    "marine_watch/api/routes/ops.py": "tests/integration/test_end_to_end.py",
    "marine_watch/api/routes/overtopping.py": "tests/integration/test_api_answers.py",
    "marine_watch/api/routes/places.py": "tests/integration/test_api_answers.py",
    "marine_watch/api/routes/roads.py": "tests/integration/test_surge_scenario.py",
    "marine_watch/api/routes/stations.py": "tests/integration/test_typed_answers.py",
    "marine_watch/api/routes/tide.py": "tests/integration/test_typed_answers.py",
    "marine_watch/api/routes/users.py": "tests/integration/test_api_security.py",
    "marine_watch/api/routes/web.py": "tests/browser/test_pages.py",
    "marine_watch/api/routes/webhooks.py": "tests/integration/test_surge_scenario.py",
    "marine_watch/api/routes/ws.py": "tests/integration/test_ws_direct.py",
    "marine_watch/app.py": "tests/integration/test_end_to_end.py",
    "marine_watch/cli/hindcast.py": "tests/marine_watch/hindcast/test_run.py",
    "marine_watch/cli/numerics.py": "tests/marine_watch/cli/test_main.py",
    "marine_watch/coast.py": "tests/marine_watch/test_settings.py",
    "marine_watch/demo/run.py": "tests/integration/test_demo.py",
    "marine_watch/demo/simulator.py": "tests/integration/test_demo.py",
    "marine_watch/errors.py": "tests/marine_watch/test_settings.py",
    "marine_watch/hindcast/outcome.py": "tests/marine_watch/hindcast/test_run.py",
    "marine_watch/hindcast/plot.py": "tests/marine_watch/hindcast/test_run.py",
    "marine_watch/ingest/subscriber.py": "tests/integration/test_faults.py",
    "marine_watch/inputs/forecast_inbox.py": "tests/marine_watch/inputs/test_forecasts.py",
    "marine_watch/inputs/wave_forecasts.py": "tests/integration/test_wave_forecast.py",
    "marine_watch/metrics.py": "tests/integration/test_end_to_end.py",
    "marine_watch/mqtt/broker.py": "tests/integration/test_demo.py",  # the demo's own Mosquitto
    "marine_watch/mqtt/client.py": "tests/marine_watch/mqtt/test_broker_list.py",
    "marine_watch/risk/assessment.py": "tests/marine_watch/risk/test_outlook.py",
    "marine_watch/risk/last_known.py": "tests/marine_watch/risk/test_warning_rules.py",
    "marine_watch/services.py": "tests/integration/test_node_roles.py",
    "marine_watch/store/factory.py": "tests/marine_watch/store/test_contract.py",
}


def has_logic(path: Path) -> bool:
    """A module with a function or a class (not a package's ``__init__`` or ``__main__``)."""
    if path.name in ("__init__.py", "__main__.py"):
        return False
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(node, kinds) for node in ast.walk(tree))


def unit_test_of(module: str) -> str:
    """``marine_watch/a/b.py`` → ``tests/marine_watch/a/test_b.py``."""
    path = Path(module)
    return str(Path("tests") / path.parent / f"test_{path.name}")


def modules_with_logic(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in (root / "marine_watch").rglob("*.py") if has_logic(p)
    )


def without_unit_tests(root: Path, covered: dict[str, str]) -> list[str]:
    """Modules with logic that have neither their own test file nor an entry in ``covered``."""
    return [
        m
        for m in modules_with_logic(root)
        if not (root / unit_test_of(m)).is_file() and m not in covered
    ]


def test_every_module_with_logic_has_its_unit_test_file() -> None:
    """``marine_watch/<path>/<m>.py`` is tested in ``tests/marine_watch/<path>/test_<m>.py``, or
    named in COVERED_ELSEWHERE with the test file that exercises it."""
    assert without_unit_tests(ROOT, COVERED_ELSEWHERE) == []


def test_covered_elsewhere_names_real_modules_and_existing_test_files() -> None:
    """No stale entry: each names a module with logic and without a test file of its own (once it
    has one, the entry goes), and a test file that exists."""
    modules = set(modules_with_logic(ROOT))
    stale = [m for m in COVERED_ELSEWHERE if m not in modules or (ROOT / unit_test_of(m)).is_file()]
    missing = [
        t
        for t in COVERED_ELSEWHERE.values()
        if not (ROOT / t).is_file() or not Path(t).name.startswith("test_")
    ]
    assert stale == []
    assert missing == []


def test_the_mirror_check_flags_a_new_module_without_tests(tmp_path: Path) -> None:
    """A new module with a function and no test file is found; its test file, or an entry, clears
    it; package files and modules of constants only are not asked for one."""
    pkg = tmp_path / "marine_watch" / "newpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("def helper() -> None: ...\n")
    (pkg / "constants.py").write_text("LIMIT = 3\n")
    (pkg / "logic.py").write_text("class Thing:\n    pass\n")
    assert without_unit_tests(tmp_path, {}) == ["marine_watch/newpkg/logic.py"]
    entry = {"marine_watch/newpkg/logic.py": "tests/integration/test_x.py"}
    assert without_unit_tests(tmp_path, entry) == []
    tests = tmp_path / "tests" / "marine_watch" / "newpkg"
    tests.mkdir(parents=True)
    (tests / "test_logic.py").write_text("")
    assert without_unit_tests(tmp_path, {}) == []
