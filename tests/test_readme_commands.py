"""Every command in the README is run by a test (or is `make test` itself), and the quick ones here.

COVERED says, for each README command (by the words it starts with), which test runs it. A command
the README gains without an entry fails, and so does an entry whose test is gone or that no README
command uses any more.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, readme_commands

REAL_RUN = "tests/integration/test_readme.py::test_run_it_for_real_with_mosquitto_and_influxdb"
DEMO = "tests/integration/test_readme.py::test_the_demo_answers_the_readme_commands"
#: README command prefix -> the test that runs it
COVERED = {
    "make demo": "tests/integration/test_demo.py::test_ctrl_c_on_make_demo_stops_cleanly",
    "make test": ".ci/run",  # the suite itself: CI runs `make test`
    "curl -s 'http://127.0.0.1:8000/api/v1/risk?": DEMO,
    "python -m websockets ws://127.0.0.1:8000/ws/risk": DEMO,
    "marine-watch replay ": "tests/integration/test_readme.py::test_replay_into_the_demo_as_written",
    "marine-watch tide fit ": "tests/test_readme_commands.py::test_quick_commands_run_as_written",
    "marine-watch tide predict ": "tests/test_readme_commands.py::test_quick_commands_run_as_written",
    "marine-watch overtopping ": "tests/test_readme_commands.py::test_quick_commands_run_as_written",
    # the Debian packages: `make system-deps` installs them; the run below uses their binaries
    "sudo apt-get install -y mosquitto mosquitto-clients influxdb curl jq": REAL_RUN,
    "sudo systemctl disable --now mosquitto": REAL_RUN,  # the machine's own broker is left alone
    "sudo systemctl restart influxdb": REAL_RUN,  # a private instance instead
    "marine-watch mqtt-accounts ": REAL_RUN,
    "/usr/sbin/mosquitto -c ": REAL_RUN,
    "python -m marine_watch.auth ": REAL_RUN,
    "export MARINE_WATCH_": REAL_RUN,
    "marine-watch check-config": REAL_RUN,
    "marine-watch serve &": REAL_RUN,
    "curl -s http://127.0.0.1:8000/health": REAL_RUN,
    "mosquitto_pub ": REAL_RUN,
    "curl -s 'http://127.0.0.1:8000/api/v1/stations/zhapu/readings?": REAL_RUN,
    "kill %2": REAL_RUN,
    "kill %1": REAL_RUN,
    "docker-compose up -d": "tests/test_compose.py::test_compose_file_is_valid",  # no engine here
}


def _exists(target: str) -> bool:
    path, _, name = target.partition("::")
    if not (ROOT / path).is_file():
        return False
    text = (ROOT / path).read_text(encoding="utf-8")
    return not name or re.search(rf"^(async )?def {re.escape(name)}\(", text, re.M) is not None


def test_every_readme_command_is_run_by_a_test() -> None:
    """Each `$ ` line of the README's console blocks has an entry here, and the entry's test exists."""
    commands = readme_commands()
    assert len(commands) >= 20
    unmatched = [c for c in commands if not any(c.startswith(p) for p in COVERED)]
    assert unmatched == []
    assert [t for t in set(COVERED.values()) if not _exists(t)] == []
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    stale = [p for p in COVERED if not any(c.startswith(p) for c in commands)]
    assert stale == []


def _bin() -> str:
    """This interpreter's scripts first on PATH: `marine-watch` and `python` as installed."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def test_quick_commands_run_as_written(tmp_path: Path) -> None:
    """The numerics commands of the README, run as written from a folder that has the repository's
    config/ and reference/ (outputs land in that folder, not in the checkout)."""
    for name in ("config", "reference"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {**os.environ, "PATH": _bin()}
    ran = {}
    for command in readme_commands("Command line"):
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        ran[shlex.split(command)[1]] = done.stdout
    assert set(ran) == {"tide", "overtopping"}
    fitted = json.loads((tmp_path / "halifax.json").read_text())
    assert {"M2", "S2", "N2", "K1", "O1"} <= {c["name"] for c in fitted["constituents"]}
    assert fitted["source"].startswith(
        "marine-watch tide fit of reference/tide_halifax_2003_hourly"
    )
    m2 = next(c for c in fitted["constituents"] if c["name"] == "M2")
    assert m2["amplitude"] == pytest.approx(0.62, abs=0.03)  # Halifax M2 (reference/README.md)
    rows = (tmp_path / "zhapu.csv").read_text().splitlines()
    assert rows[0] == "time,value"
    assert len(rows) == 1 + 145  # a day every 10 minutes, both ends
    report = json.loads(ran["overtopping"])
    assert report["q_l_per_s_per_m"] > 0
    assert report["colour"] in {"none", "blue", "yellow", "orange", "red"}
