"""Private Mosquitto and InfluxDB servers for tests: free loopback ports, generated configs, temp dirs.

Nothing here touches a server it did not start: each helper owns exactly the process it spawned.
A missing binary fails the test with a message that says how to install it (never a skip).
"""

import atexit
import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

HOST = "127.0.0.1"

#: The shipped sample coast (stations, zones, dikes, thresholds).
CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"


def slowness() -> float:
    """Factor every test timeout is multiplied by (env MARINE_WATCH_TEST_SLOWNESS, default 1)."""
    return float(os.environ.get("MARINE_WATCH_TEST_SLOWNESS", "1"))


def scaled(seconds: float) -> float:
    """A timeout in seconds, scaled for slow machines."""
    return seconds * slowness()


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago (bind to port 0, then release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    host: str,
    port: int,
    timeout: float = 10.0,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll until ``host:port`` accepts a TCP connection; fail if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        _fail_if_exited(proc, log)
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)  # polling a condition, not synchronising on time
    pytest.fail(f"nothing listens on {host}:{port} after {scaled(timeout):.0f} s{_tail(log)}")


def find_binary(name: str, package: str) -> str:
    """Path of a server binary (also looked up in /usr/sbin); fail clearly when it is missing."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if path is None:
        pytest.fail(
            f"{name} is missing: install the Debian package {package!r} (`make system-deps`)"
        )
    return path


def _tail(log: Path | None, lines: int = 20) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"\n--- {log} ---\n" + "\n".join(text)


def _fail_if_exited(proc: subprocess.Popen[bytes] | None, log: Path | None) -> None:
    if proc is not None and proc.poll() is not None:
        pytest.fail(f"{proc.args!r} exited with {proc.returncode}{_tail(log)}")


# Every server process this module started and has not yet seen exit: the atexit hook below stops
# any that a crashed fixture or an interrupted session left behind, and nothing else.
_OWNED: set[subprocess.Popen[bytes]] = set()


def _terminate(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """Stop our own process: SIGTERM, then SIGKILL if it does not exit in time."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _OWNED.discard(proc)


def _kill(proc: subprocess.Popen[bytes] | None) -> None:
    """Kill our own process at once (SIGKILL), as a crash or power cut would."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _OWNED.discard(proc)


@atexit.register
def _terminate_leftovers() -> None:
    for proc in list(_OWNED):
        _terminate(proc, timeout=5.0)


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    _OWNED.add(proc)
    return proc


@dataclass(slots=True)
class Broker:
    """A private Mosquitto; ``restart()`` brings it back on the same port with the same config."""

    host: str
    port: int
    conf: Path
    log: Path
    exe: str
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self.proc = _spawn([self.exe, "-c", str(self.conf)], self.log)
        try:
            wait_for_port(self.host, self.port, proc=self.proc, log=self.log)
        except BaseException:
            _terminate(self.proc)
            raise

    def stop(self) -> None:
        """Stop gracefully (SIGTERM): Mosquitto saves its persistence file first."""
        _terminate(self.proc)

    def kill(self) -> None:
        """Kill at once (SIGKILL), as a crash or power cut would."""
        _kill(self.proc)

    def restart(self, *, graceful: bool = True) -> None:
        if graceful:
            self.stop()
        else:
            self.kill()
        self.start()


def mosquitto_conf(
    port: int, data_dir: Path, *, persistence: bool = False, extra_conf: str = ""
) -> str:
    """A Mosquitto 2 config for one loopback listener, logging to a file in ``data_dir``."""
    lines = [
        f"listener {port} {HOST}",
        "allow_anonymous true",
        f"persistence {'true' if persistence else 'false'}",
        f"persistence_location {data_dir}/",  # Mosquitto needs the trailing slash
        f"log_dest file {data_dir / 'mosquitto.log'}",
        "log_type error",
        "log_type warning",
        "log_type notice",
    ]
    if os.geteuid() == 0:  # otherwise it drops to user "mosquitto", who cannot write our temp dir
        lines.append(f"user {getpass.getuser()}")
    return "\n".join(lines) + "\n" + extra_conf + ("\n" if extra_conf else "")


def start_mosquitto(
    tmpdir: Path, port: int | None = None, extra_conf: str = "", *, persistence: bool = False
) -> Broker:
    """Start a private Mosquitto on a free loopback port (or ``port``) with its files in ``tmpdir``."""
    exe = find_binary("mosquitto", "mosquitto")
    tmpdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    conf = tmpdir / "mosquitto.conf"
    conf.write_text(mosquitto_conf(port, tmpdir, persistence=persistence, extra_conf=extra_conf))
    broker = Broker(HOST, port, conf, tmpdir / "mosquitto.out", exe)
    broker.start()
    return broker


def influxd_conf(root: Path, http_port: int, rpc_port: int, *, auth: bool = False) -> str:
    """An InfluxDB 1.x config: every dir under ``root``, loopback ports only, quiet, no phoning home.

    ``auth``: accounts required, and every HTTP request logged (with its URL) so a test can check
    that no secret travels in one.
    """
    return f"""\
reporting-disabled = true
bind-address = "{HOST}:{rpc_port}"

[meta]
  dir = "{root / "meta"}"
  logging-enabled = false

[data]
  dir = "{root / "data"}"
  wal-dir = "{root / "wal"}"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "{HOST}:{http_port}"
  auth-enabled = {"true" if auth else "false"}
  log-enabled = {"true" if auth else "false"}
  write-tracing = false

[logging]
  level = "{"info" if auth else "warn"}"
  suppress-logo = true

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
"""


@dataclass(slots=True)
class Influx:
    """A private influxd; ``stop()`` then ``start()`` keeps its ports and data."""

    host: str
    http_port: int
    rpc_port: int
    root: Path
    conf: Path
    log: Path
    exe: str
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def start(self, timeout: float = 30.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self.proc = _spawn([self.exe, "run", "-config", str(self.conf)], self.log)
        try:
            self._wait_ready(timeout)
        except BaseException:
            _terminate(self.proc)
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + scaled(timeout)
        with httpx.Client(base_url=self.url, timeout=1.0) as http:
            while time.monotonic() < deadline:
                _fail_if_exited(self.proc, self.log)
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/ping").status_code == httpx.codes.NO_CONTENT:
                        return
                time.sleep(0.05)  # polling a condition
        pytest.fail(
            f"influxd at {self.url} not ready after {scaled(timeout):.0f} s{_tail(self.log)}"
        )

    def stop(self) -> None:
        _terminate(self.proc, timeout=20.0)

    def kill(self) -> None:
        _kill(self.proc)


def start_influxd(tmpdir: Path, *, admin: tuple[str, str] | None = None) -> Influx:
    """Start a private InfluxDB 1.x on free loopback HTTP and RPC ports, with its files in ``tmpdir``.

    ``admin`` (user, password): accounts required, and this admin account created.
    """
    exe = find_binary("influxd", "influxdb")
    tmpdir.mkdir(parents=True, exist_ok=True)
    http_port, rpc_port = free_port(), free_port()
    while rpc_port == http_port:
        rpc_port = free_port()
    conf = tmpdir / "influxdb.conf"
    conf.write_text(influxd_conf(tmpdir, http_port, rpc_port, auth=admin is not None))
    influx = Influx(HOST, http_port, rpc_port, tmpdir, conf, tmpdir / "influxd.out", exe)
    influx.start()
    if admin is not None:  # the first user may be created without an account
        user, password = admin
        q = f"CREATE USER \"{user}\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES"
        with httpx.Client(base_url=influx.url, timeout=10.0) as http:
            http.post("/query", data={"q": q}).raise_for_status()
    return influx
