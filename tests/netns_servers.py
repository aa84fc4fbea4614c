"""Servers inside namespace hosts: the tests' private Mosquitto and InfluxDB, HAProxy, stand-in nodes.

Each listens on its host's address (and the host's loopback), with the configs of tests/services.py
and deploy/haproxy; every host is a fresh namespace, so the standard ports are free in it. A real
marine_watch node is started the same way as the stand-in (``host.spawn([...marine-watch, "serve"],
env={"MARINE_WATCH_HTTP_HOST": host.ip, ...})``) and sits behind ``start_haproxy`` unchanged.
"""

import csv
import importlib.util
import io
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx

from tests.netns import Host, HostProcess, NetnsError
from tests.services import HOST, find_binary, influxd_conf, mosquitto_conf, scaled

ROOT = Path(__file__).resolve().parents[1]
HAPROXY_DIR = ROOT / "deploy" / "haproxy"


@dataclass
class HostServer:
    """A server process in a host and the URL other hosts reach it at."""

    host: Host
    proc: HostProcess
    url: str
    port: int


def start_mosquitto_on(host: Host, tmpdir: Path, port: int = 1883) -> HostServer:
    """The tests' Mosquitto config with one more listener on the host's address; persistence on."""
    exe = find_binary("mosquitto", "mosquitto")
    tmpdir.mkdir(parents=True, exist_ok=True)
    conf = tmpdir / "mosquitto.conf"
    text = mosquitto_conf(port, tmpdir, persistence=True, extra_conf=f"listener {port} {host.ip}")
    conf.write_text(text, encoding="utf-8")
    proc = host.spawn([exe, "-c", str(conf)], name="mosquitto")
    proc.wait_port(port)
    return HostServer(host, proc, f"mqtt://{host.ip}:{port}", port)


def start_influxd_on(host: Host, tmpdir: Path, port: int = 8086) -> HostServer:
    """The tests' InfluxDB config with its HTTP API on the host's address (RPC stays on loopback)."""
    exe = find_binary("influxd", "influxdb")
    tmpdir.mkdir(parents=True, exist_ok=True)
    text = influxd_conf(tmpdir, port, 8088)
    loopback_http = f'bind-address = "{HOST}:{port}"'
    if text.count(loopback_http) != 1:
        msg = "tests/services.influxd_conf changed: cannot move its HTTP listener"
        raise NetnsError(msg)
    conf = tmpdir / "influxdb.conf"
    conf.write_text(text.replace(loopback_http, f'bind-address = "{host.ip}:{port}"'), "utf-8")
    proc = host.spawn([exe, "run", "-config", str(conf)], name="influxd")
    server = HostServer(host, proc, f"http://{host.ip}:{port}", port)
    wait_http(server, "/ping", 204, timeout=30.0)
    return server


def wait_http(server: HostServer, path: str, status: int, timeout: float = 20.0) -> None:
    """Poll ``path`` from the server's own host until it answers ``status``."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        server.proc.check_alive()
        with server.host.entered(), httpx.Client(timeout=1.0) as http:
            try:
                if http.get(server.url + path).status_code == status:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.05)  # polling a condition
    msg = f"{server.url}{path} did not answer {status}"
    raise NetnsError(msg + server.proc.tail())


@dataclass
class StandinNode(HostServer):
    """tests/netns_standin.py in a host; ``set_health(503)`` makes its /health fail."""

    name: str
    health_file: Path

    def set_health(self, status: int) -> None:
        if status == 200:
            self.health_file.unlink(missing_ok=True)
        else:
            self.health_file.write_text(str(status), encoding="utf-8")

    def set_health_delay(self, seconds: float) -> None:
        """/health answers 200, but only after ``seconds``."""
        self.health_file.write_text(f"sleep {seconds:g}", encoding="utf-8")


def start_standin(host: Host, tmpdir: Path, name: str, port: int = 8000) -> StandinNode:
    tmpdir.mkdir(parents=True, exist_ok=True)
    health = tmpdir / f"{name}.health"
    args = [sys.executable, "-m", "tests.netns_standin", "--name", name, "--host", host.ip]
    proc = host.spawn(
        [*args, "--port", str(port), "--health-file", str(health)], name=name, cwd=ROOT
    )
    proc.wait_port(port)
    return StandinNode(host, proc, f"http://{host.ip}:{port}", port, name, health)


def _renderer() -> ModuleType:  # deploy/ is not a package: load the shipped script by path
    spec = importlib.util.spec_from_file_location("haproxy_render", HAPROXY_DIR / "render.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_module = _renderer()


@dataclass
class Haproxy(HostServer):
    """HAProxy in the foreground (``-db``) with the rendered deploy config; its runtime API socket."""

    cfg: Path
    admin_socket: Path
    stats_port: int

    def command(self, line: str) -> str:
        """One runtime API command over the admin socket (a file: reachable from any namespace).

        The socket file exists from HAProxy's bind(); until its listen() a connect is refused, a
        window a loaded machine widens, so a refusal is retried for a few seconds."""
        deadline = time.monotonic() + 10.0
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5.0)
            while True:
                try:
                    sock.connect(str(self.admin_socket))
                    break
                except ConnectionRefusedError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stat(self) -> list[dict[str, str]]:
        """``show stat``: one row per frontend, backend and server."""
        text = self.command("show stat").removeprefix("# ")
        return list(csv.DictReader(io.StringIO(text)))

    def status(self, backend: str, server: str) -> str:
        """``UP``, ``DOWN``, ``MAINT``… of one server (transitions read ``UP 1/2``, ``DOWN 1/2``)."""
        for row in self.stat():
            if row["pxname"] == backend and row["svname"] == server:
                return row["status"]
        msg = f"no server {backend}/{server}"
        raise KeyError(msg)

    def wait_status(self, backend: str, server: str, status: str, timeout: float = 15.0) -> float:
        """Poll until the server's status is ``status``; the seconds it took."""
        start = time.monotonic()
        while (waited := time.monotonic() - start) < scaled(timeout):
            if self.status(backend, server) == status:
                return waited
            time.sleep(0.05)  # polling a condition
        msg = f"{backend}/{server} is {self.status(backend, server)}, not {status}"
        raise NetnsError(msg + self.proc.tail())


def _wait_file(path: Path, proc: HostProcess, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + scaled(timeout)
    while not path.exists():
        proc.check_alive()
        if time.monotonic() > deadline:
            msg = f"{path} did not appear"
            raise NetnsError(msg + proc.tail())
        time.sleep(0.02)  # polling a condition


def haproxy_maxconn_limit() -> int:
    """The largest maxconn HAProxy can take under our fd hard limit (it needs 2 × maxconn + ~31;
    it raises its soft limit itself, but not the hard one without CAP_SYS_RESOURCE)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        return int(render_module.DEFAULTS["maxconn"])
    return min(int(render_module.DEFAULTS["maxconn"]), (hard - 64) // 2)


def start_haproxy(
    host: Host,
    tmpdir: Path,
    servers: list[tuple[str, str]],
    port: int = 80,
    stats_port: int = 8404,
    values: Mapping[str, str] | None = None,
    name: str = "haproxy",
) -> Haproxy:
    """Render deploy/haproxy/haproxy.cfg for ``servers`` (name, "ip:port"), check it, run it."""
    exe = find_binary("haproxy", "haproxy")
    tmpdir.mkdir(parents=True, exist_ok=True)
    admin = tmpdir / f"{name}.sock"
    fields = {
        "bind": f"{host.ip}:{port}",
        "stats_bind": f"127.0.0.1:{stats_port}",
        "admin_socket": str(admin),
        "maxconn": str(haproxy_maxconn_limit()),
        **(values or {}),
    }
    text = render_module.render(
        (HAPROXY_DIR / "haproxy.cfg").read_text(encoding="utf-8"), servers, **fields
    )
    cfg = tmpdir / f"{name}.cfg"
    cfg.write_text(text, encoding="utf-8")
    check = subprocess.run([exe, "-c", "-f", str(cfg)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        msg = f"haproxy -c rejects {cfg}: {check.stdout}{check.stderr}"
        raise NetnsError(msg)
    proc = host.spawn([exe, "-f", str(cfg), "-db"], name=name, cwd=tmpdir)
    _wait_file(admin, proc)  # the socket appears once this process has bound its listeners
    proc.wait_port(port)
    return Haproxy(host, proc, f"http://{host.ip}:{port}", port, cfg, admin, stats_port)
