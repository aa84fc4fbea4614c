"""deploy/haproxy: the template renders into a config HAProxy accepts, and nothing else gets in."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.netns_servers import HAPROXY_DIR, render_module
from tests.services import find_binary

TEMPLATE = (HAPROXY_DIR / "haproxy.cfg").read_text(encoding="utf-8")
SERVERS = [("api1", "10.0.0.11:8000"), ("api2", "api2.internal:8000")]


def _haproxy_check(cfg: Path) -> subprocess.CompletedProcess[str]:
    exe = find_binary("haproxy", "haproxy")
    return subprocess.run([exe, "-c", "-f", str(cfg)], capture_output=True, text=True, check=False)


def test_the_cli_writes_a_config_haproxy_accepts(tmp_path: Path) -> None:
    """render.py with two nodes: `haproxy -c` says valid, with no warning."""
    cfg = tmp_path / "haproxy.cfg"
    args = [sys.executable, str(HAPROXY_DIR / "render.py"), "-o", str(cfg)]
    args += ["--server", "api1=127.0.0.1:8001", "--server", "api2=127.0.0.1:8002"]
    args += ["--admin-socket", str(tmp_path / "admin.sock")]
    subprocess.run(args, check=True)
    check = _haproxy_check(cfg)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "WARNING" not in check.stdout + check.stderr
    assert "{{" not in cfg.read_text(encoding="utf-8")


def test_each_node_is_checked_once_and_tracked_for_websockets() -> None:
    """The HTTP backend health-checks each node; the websocket backend follows those checks."""
    text = render_module.render(TEMPLATE, SERVERS)
    assert "    server api1 10.0.0.11:8000 check\n" in text
    assert "    server api2 api2.internal:8000 track api_http/api2 on-marked-down" in text
    assert text.count(" check\n") == 2


@pytest.mark.parametrize(
    ("servers", "values", "error"),
    [
        ([], {}, "at least one"),
        ([("api1", "10.0.0.1:80"), ("api1", "10.0.0.2:80")], {}, "unique"),
        ([("api1", "10.0.0.1")], {}, "bad server"),
        ([("api1", "10.0.0.1:99999")], {}, "bad server"),
        ([("api 1", "10.0.0.1:80")], {}, "bad server"),
        (SERVERS, {"bind": ":80\n    stats enable"}, "bad value for bind"),
        (SERVERS, {"timeout_tunnel": "1h # x"}, "bad value for timeout_tunnel"),
        (SERVERS, {"maxconn": "0"}, "bad value for maxconn"),
        (SERVERS, {"colour": "red"}, "unknown fields"),
    ],
)
def test_bad_input_is_refused(
    servers: list[tuple[str, str]], values: dict[str, str], error: str
) -> None:
    """Servers and values that could break the config (or out of their line) are errors."""
    with pytest.raises(ValueError, match=error):
        render_module.render(TEMPLATE, servers, **values)


def test_an_unknown_template_field_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        render_module.render(TEMPLATE + "\n# {{ secret }}\n", SERVERS)
