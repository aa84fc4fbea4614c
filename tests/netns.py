"""Hosts in Linux network namespaces for multi-host tests: one bridge, veth links, processes per host.

A ``Network`` is a bridge in a namespace of its own plus any number of hosts. A host is a namespace
with ``lo`` up and one veth link, ``eth0``, to the bridge; hosts get addresses from a private /24
that no address or route of this machine uses (``choose_subnet``). Nothing is added to the machine's
own namespace: no interface, no address, no route. A host reaches the other hosts of its network
and nothing else.

Every namespace is named ``mwnet-<pid>-<token>-<role>`` (pid of the process that made it), so
parallel runs never collide and ``sweep_stale`` can delete what a crashed run left behind (the
namespaces whose pid is gone). ``Network.close`` stops every process it started, then any process
still inside its namespaces, then deletes them; the ``netns`` fixture calls it even when a test
fails, and an atexit hook covers an interrupted session.

A process runs in a host as ``ip netns exec NS …`` (``Host.spawn``), in its own process group, with
its output in a log file. The test process itself can act as a host: ``with host.entered(): …``
moves the calling thread into the host's namespace (setns), so sockets opened there (httpx,
websockets) are that host's; they stay in it after the block. Threads started inside the block
inherit the namespace, threads that already exist do not: asyncio code whose library connects in
an executor thread (aiomqtt) uses ``async with host.entered_async(): …``.
"""

import asyncio
import atexit
import contextlib
import ctypes
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from tests.services import scaled

PREFIX = "mwnet"
#: Where the /24 of a network is taken from (the first one that clashes with nothing here).
SUBNET_POOL = ipaddress.IPv4Network("10.214.0.0/16")
_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_STALE = re.compile(rf"^{PREFIX}-(\d+)-[0-9a-f]+-")
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class NetnsError(RuntimeError):
    """An ``ip``/``nft`` command failed, or a process in a host did not come up."""


def _cmd(args: Sequence[str], *, check: bool = True, timeout: float = 30.0) -> str:
    """Run a command (``ip``, ``nft``) in this namespace; its stdout, or NetnsError with stderr."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        msg = f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}"
        raise NetnsError(msg)
    return done.stdout


def _namespaces() -> list[str]:
    """Names from ``ip netns list`` (each line is ``NAME`` or ``NAME (id: N)``)."""
    return [line.split()[0] for line in _cmd(["ip", "netns", "list"]).splitlines() if line.strip()]


def _ns_pids(ns: str) -> list[int]:
    return [int(p) for p in _cmd(["ip", "netns", "pids", ns], check=False).split()]


def _delete_namespace(ns: str) -> None:
    """Kill whatever still runs in ``ns`` (ours: nothing else can be in it), then delete it."""
    for pid in _ns_pids(ns):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _cmd(["ip", "netns", "delete", ns], check=False)


@cache
def netns_unavailable() -> str | None:
    """Why network namespaces cannot be used here, or None when ``ip netns add`` works."""
    if shutil.which("ip") is None:
        return "the `ip` command is missing (Debian package iproute2)"
    probe = f"{PREFIX}-{os.getpid()}-{secrets.token_hex(3)}-probe"
    done = subprocess.run(
        ["ip", "netns", "add", probe], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        who = "" if os.geteuid() == 0 else f" (running as uid {os.geteuid()}, not root)"
        return f"`ip netns add` failed: {done.stderr.strip() or done.returncode}{who}"
    _delete_namespace(probe)
    return None


def sweep_stale() -> list[str]:
    """Delete the namespaces of earlier runs whose creating process is gone; their names."""
    swept = []
    for ns in _namespaces():
        match = _STALE.match(ns)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _delete_namespace(ns)
            swept.append(ns)
        except PermissionError:  # alive, someone else's
            continue
    return swept


def _machine_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network this machine's own namespace has an address in or a route to."""
    nets = []
    for link in json.loads(_cmd(["ip", "-j", "-4", "addr"]) or "[]"):
        for info in link.get("addr_info", []):
            nets.append(ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False))
    for route in json.loads(_cmd(["ip", "-j", "-4", "route"]) or "[]"):
        if route.get("dst", "default") != "default":
            nets.append(ipaddress.ip_network(route["dst"], strict=False))
    return [n for n in nets if isinstance(n, ipaddress.IPv4Network)]


def choose_subnet() -> ipaddress.IPv4Network:
    """The first /24 of SUBNET_POOL that overlaps no address or route of this machine."""
    taken = _machine_networks()
    for subnet in SUBNET_POOL.subnets(new_prefix=24):
        if not any(subnet.overlaps(net) for net in taken):
            return subnet
    msg = f"every /24 of {SUBNET_POOL} clashes with a network of this machine"
    raise NetnsError(msg)


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _enter_for_good(ns: str) -> None:
    """Move the calling thread (a pool worker) into ``ns`` for the rest of its life."""
    with Path(f"/run/netns/{ns}").open("rb") as target:
        _setns(target.fileno())


@dataclass(eq=False)
class HostProcess:
    """A process in a host: ``ip netns exec NS args…`` in its own process group, output to ``log``."""

    host: "Host"
    args: list[str]
    log: Path
    env: dict[str, str]
    cwd: Path | None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> "HostProcess":
        if self.running:
            return self
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                ["ip", "netns", "exec", self.host.ns, *self.args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,  # a process group: kill() reaches its children too
            )
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self.popen is None else self.popen.pid

    def _signal_group(self, sig: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process and its group at once, as a crash or power cut would."""
        if self.popen is None:
            return
        if self.popen.poll() is None:  # not reaped yet, so the group id is still ours
            self._signal_group(signal.SIGKILL)
        self.popen.wait()

    def terminate(self, timeout: float = 10.0) -> None:
        """SIGTERM the group; SIGKILL it if the process has not exited after ``timeout`` s."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.popen.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.popen.wait()

    def restart(self, *, graceful: bool = True) -> "HostProcess":
        if graceful:
            self.terminate()
        else:
            self.kill()
        return self.start()

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        return f"\n--- {self.log} ---\n" + "\n".join(text)

    def check_alive(self) -> None:
        if self.popen is not None and self.popen.poll() is not None:
            msg = f"{self.args!r} in {self.host.name} exited with {self.popen.returncode}"
            raise NetnsError(msg + self.tail())

    def wait_port(self, port: int, timeout: float = 20.0, address: str | None = None) -> None:
        """Poll until ``address`` (default: the host's) accepts TCP on ``port`` inside the host."""
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            self.check_alive()
            if self.host.connects(address or self.host.ip, port):
                return
            time.sleep(0.05)  # polling a condition
        msg = f"nothing listens on {address or self.host.ip}:{port} in {self.host.name}"
        raise NetnsError(msg + self.tail())


@dataclass(eq=False)
class Host:
    """One machine of a Network: a namespace, an address on the bridge, processes, a cable."""

    network: "Network"
    name: str
    ns: str
    ip: str
    port_name: str  # its veth end on the bridge
    processes: list[HostProcess] = field(default_factory=list, repr=False)

    @property
    def logdir(self) -> Path:
        return self.network.logdir / self.name

    def spawn(
        self,
        args: Sequence[str],
        *,
        name: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        inherit_env: bool = True,
    ) -> HostProcess:
        """Start ``args`` in this host (log: ``<logdir>/<host>/<name>.log``); Network.close stops it."""
        full_env = {**os.environ} if inherit_env else {"PATH": os.environ.get("PATH", "")}
        full_env.update(env or {})
        proc = HostProcess(self, list(args), self.logdir / f"{name}.log", full_env, cwd)
        self.processes.append(proc)
        return proc.start()

    def run(self, args: Sequence[str], *, timeout: float = 60.0) -> str:
        """Run ``args`` in this host to completion; its stdout (NetnsError if it fails)."""
        return _cmd(["ip", "netns", "exec", self.ns, *args], timeout=scaled(timeout))

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Move the calling thread into this host's namespace for the block (sockets stay in it)."""
        with (
            Path("/proc/thread-self/ns/net").open("rb") as home,
            Path(f"/run/netns/{self.ns}").open("rb") as target,
        ):
            _setns(target.fileno())
            try:
                yield
            finally:
                _setns(home.fileno())

    @contextlib.asynccontextmanager
    async def entered_async(self) -> AsyncIterator[None]:
        """``entered()`` for asyncio code: the loop's default executor runs in this host too, so
        work it hands to threads (aiomqtt connects in one) opens its sockets here as well."""
        loop = asyncio.get_running_loop()
        with self.entered(), self.executor() as pool:
            loop.set_default_executor(pool)
            try:
                yield
            finally:
                loop.set_default_executor(ThreadPoolExecutor())

    def executor(self) -> ThreadPoolExecutor:
        """A thread pool whose threads live in this host's namespace."""
        return ThreadPoolExecutor(initializer=_enter_for_good, initargs=(self.ns,))

    def connects(self, address: str, port: int, timeout: float = 0.3) -> bool:
        """True when a TCP connection from this host to ``address:port`` is accepted."""
        with self.entered(), contextlib.suppress(OSError):
            socket.create_connection((address, port), timeout=timeout).close()
            return True
        return False

    def sysctl(self, key: str, value: str) -> None:
        """Set a per-namespace sysctl (``net.…``) in this host."""
        self.run(["sysctl", "-q", "-w", f"{key}={value}"])

    def link_down(self) -> None:
        """Pull the cable: the bridge end goes down, so ``eth0`` loses carrier."""
        _cmd(["ip", "-n", self.network.bridge_ns, "link", "set", self.port_name, "down"])

    def link_up(self) -> None:
        """Plug the cable back in."""
        _cmd(["ip", "-n", self.network.bridge_ns, "link", "set", self.port_name, "up"])

    def blackhole(self, loss_percent: int = 100) -> None:
        """Drop this share of packets in and out of ``eth0`` silently (nftables); link stays up."""
        if not 1 <= loss_percent <= 100:
            msg = f"loss_percent must be 1..100, not {loss_percent}"
            raise ValueError(msg)
        if shutil.which("nft") is None:
            msg = "nft is missing: install the Debian package 'nftables' (`make system-deps`)"
            raise NetnsError(msg)
        drop = "drop" if loss_percent == 100 else f"numgen random mod 100 < {loss_percent} drop"
        self.heal()
        rules = f"""table inet mwnet_loss {{
    chain in {{ type filter hook input priority 0; iifname "eth0" {drop}; }}
    chain out {{ type filter hook output priority 0; oifname "eth0" {drop}; }}
}}
"""
        rules_file = self.logdir / "blackhole.nft"
        rules_file.parent.mkdir(parents=True, exist_ok=True)
        rules_file.write_text(rules, encoding="utf-8")
        self.run(["nft", "-f", str(rules_file)])

    def heal(self) -> None:
        """Undo ``blackhole``."""
        if shutil.which("nft") is not None:
            delete = ["nft", "delete", "table", "inet", "mwnet_loss"]
            _cmd(["ip", "netns", "exec", self.ns, *delete], check=False)

    def stop_processes(self) -> None:
        for proc in reversed(self.processes):
            proc.terminate(timeout=5.0)


_OPEN: set["Network"] = set()


class Network:
    """A bridge and its hosts; ``close()`` (or leaving the ``with``) removes every trace of it."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.prefix = f"{PREFIX}-{os.getpid()}-{secrets.token_hex(3)}"
        self.bridge_ns = f"{self.prefix}-br"
        self.subnet = choose_subnet()
        self.hosts: dict[str, Host] = {}
        self._addresses = self.subnet.hosts()
        next(self._addresses)  # .1 stays free (a gateway, should a test want one)
        _OPEN.add(self)
        try:
            _cmd(["ip", "netns", "add", self.bridge_ns])
            _cmd(["ip", "-n", self.bridge_ns, "link", "add", "br0", "type", "bridge"])
            _cmd(["ip", "-n", self.bridge_ns, "link", "set", "br0", "up"])
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "Network":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_host(self, name: str) -> Host:
        """A new host ``name`` (lowercase letters and digits, ≤ 12) with the next free address."""
        if not _NAME.match(name) or name in self.hosts or name == "br":
            msg = f"host name {name!r} is taken or not [a-z][a-z0-9]{{0,11}}"
            raise ValueError(msg)
        ns, ip = f"{self.prefix}-{name}", str(next(self._addresses))
        host = Host(self, name, ns, ip, f"v{len(self.hosts)}")
        self.hosts[name] = host
        br = ["ip", "-n", self.bridge_ns, "link"]
        _cmd(["ip", "netns", "add", ns])
        _cmd([*br, "add", host.port_name, "type", "veth", "peer", "name", "eth0", "netns", ns])
        _cmd([*br, "set", host.port_name, "master", "br0", "up"])
        _cmd(["ip", "-n", ns, "addr", "add", f"{ip}/{self.subnet.prefixlen}", "dev", "eth0"])
        _cmd(["ip", "-n", ns, "link", "set", "eth0", "up"])
        _cmd(["ip", "-n", ns, "link", "set", "lo", "up"])
        return host

    def close(self) -> None:
        """Stop every process, then delete the hosts and the bridge (safe to call twice)."""
        for host in self.hosts.values():
            host.stop_processes()
        for ns in [*(h.ns for h in self.hosts.values()), self.bridge_ns]:
            if ns in _namespaces():
                _delete_namespace(ns)
        _OPEN.discard(self)


@atexit.register
def _close_leftovers() -> None:
    for net in list(_OPEN):
        net.close()


@pytest.fixture
def netns(tmp_path: Path) -> Iterator[Network]:
    """A network of this test alone, torn down after it; skips where namespaces are not permitted."""
    reason = netns_unavailable()
    if reason is not None:
        pytest.skip(f"network namespaces are not permitted here: {reason}")
    sweep_stale()
    with Network(tmp_path / "netns") as net:
        yield net
