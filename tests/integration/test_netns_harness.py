"""The network-namespace harness itself: hosts, isolation, cables, processes, clean-up and skipping."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.netns import (
    PREFIX,
    Host,
    HostProcess,
    NetnsError,
    Network,
    netns_unavailable,
    sweep_stale,
)

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]


def _http_server(
    host: Host, tmp_path: Path, port: int = 8080, bind: str | None = None
) -> HostProcess:
    """``python -m http.server`` in ``host``, serving a file that names the host."""
    root = tmp_path / f"www-{host.name}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "name").write_text(host.network.prefix + "/" + host.name, encoding="utf-8")
    args = [sys.executable, "-m", "http.server", "-b", bind or host.ip, "-d", str(root), str(port)]
    proc = host.spawn(args, name=f"http-{port}")
    proc.wait_port(port, address=bind)
    return proc


def _get(client: Host, url: str) -> str:
    with client.entered(), httpx.Client(timeout=2.0) as http:
        return http.get(url).raise_for_status().text


def _links() -> list[str]:
    return sorted(link["ifname"] for link in json.loads(_cmd_out(["ip", "-j", "link"])))


def _cmd_out(args: list[str]) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_hosts_reach_each_other_and_nothing_else(netns: Network, tmp_path: Path) -> None:
    """Two hosts talk over the bridge; the machine's namespace gets no link and cannot reach them."""
    before = _links()
    a, b = netns.add_host("a"), netns.add_host("b")
    assert _links() == before
    _http_server(a, tmp_path)
    _http_server(a, tmp_path, port=8081, bind="127.0.0.1")
    assert _get(b, f"http://{a.ip}:8080/name") == f"{netns.prefix}/a"
    assert a.connects("127.0.0.1", 8081)  # lo is up in each host ...
    assert not b.connects("127.0.0.1", 8081)  # ... and its own
    # the machine's own namespace is not on the bridge: its route to a host is its usual one
    # (the default route, whose gateway may even accept any TCP), and it never gets a host's page
    route = json.loads(_cmd_out(["ip", "-j", "route", "get", a.ip]))[0]
    assert route["dev"] in before
    assert route.get("gateway") is not None
    with httpx.Client(timeout=1.0) as http:
        try:
            answer = http.get(f"http://{a.ip}:8080/name").text
        except httpx.HTTPError:
            answer = ""
    assert netns.prefix not in answer
    routes = b.run(["ip", "-4", "route"]).strip().splitlines()
    assert routes == [f"{netns.subnet} dev eth0 proto kernel scope link src {b.ip}"]


def test_two_networks_at_once_do_not_collide(tmp_path: Path, netns: Network) -> None:
    """A second network (same addresses, own bridge) runs beside the first; names never clash."""
    with Network(tmp_path / "second") as other:
        a1, b1 = netns.add_host("a"), netns.add_host("b")
        a2, b2 = other.add_host("a"), other.add_host("b")
        assert a1.ip == a2.ip
        assert a1.ns != a2.ns
        assert netns.bridge_ns != other.bridge_ns
        _http_server(a1, tmp_path / "1")
        _http_server(a2, tmp_path / "2")
        assert _get(b1, f"http://{a1.ip}:8080/name") == f"{netns.prefix}/a"
        assert _get(b2, f"http://{a2.ip}:8080/name") == f"{other.prefix}/a"
    assert not any(ns.startswith(other.prefix) for ns in _cmd_out(["ip", "netns", "list"]).split())


def test_link_down_up_and_blackhole(netns: Network, tmp_path: Path) -> None:
    """A pulled cable and a silent blackhole both cut a host off; restoring them brings it back."""
    a, b = netns.add_host("a"), netns.add_host("b")
    _http_server(a, tmp_path)
    assert b.connects(a.ip, 8080)
    a.link_down()
    assert "NO-CARRIER" in a.run(["ip", "link", "show", "eth0"])
    assert not b.connects(a.ip, 8080, timeout=1.0)
    a.link_up()
    assert b.connects(a.ip, 8080, timeout=2.0)
    a.blackhole()
    with b.entered(), pytest.raises(TimeoutError):  # dropped silently: no refusal, no RST
        socket.create_connection((a.ip, 8080), timeout=1.0)
    assert "LOWER_UP" in a.run(["ip", "link", "show", "eth0"])
    a.heal()
    assert b.connects(a.ip, 8080, timeout=2.0)


def test_partial_loss_drops_about_that_share(netns: Network) -> None:
    """blackhole(30) drops roughly 30 % of the datagrams that reach the host."""
    a, b = netns.add_host("a"), netns.add_host("b")
    with a.entered():
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with b.entered():
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with rx, tx:
        rx.bind((a.ip, 9999))
        rx.settimeout(0.2)
        a.blackhole(30)
        got = 0
        for burst in range(12):  # 12 × 50, drained after each burst: the buffer never overflows
            for i in range(50):
                tx.sendto(str(50 * burst + i).encode(), (a.ip, 9999))
            try:
                while rx.recv(64):
                    got += 1
            except TimeoutError:
                pass
    assert 340 < got < 500  # 420 expected; binomial sd ≈ 11


def test_processes_are_killed_and_restarted(netns: Network, tmp_path: Path) -> None:
    """kill() is a SIGKILL of the process group; restart() brings the same command back."""
    a, b = netns.add_host("a"), netns.add_host("b")
    proc = _http_server(a, tmp_path)
    first = proc.pid
    proc.kill()
    assert not proc.running
    assert not b.connects(a.ip, 8080)
    proc.restart()
    proc.wait_port(8080)
    assert proc.pid != first
    assert _get(b, f"http://{a.ip}:8080/name") == f"{netns.prefix}/a"
    assert "GET /name" in proc.log.read_text(encoding="utf-8")


def test_a_process_that_dies_fails_clearly(netns: Network) -> None:
    """Waiting on a port of a process that exited raises with the tail of its log."""
    proc = netns.add_host("a").spawn(["sh", "-c", "echo boom; exit 3"], name="boom")
    with pytest.raises(NetnsError, match=r"(?s)exited with 3.*boom"):
        proc.wait_port(1234)


def test_close_removes_everything_even_after_a_failure(tmp_path: Path) -> None:
    """An exception inside the network: its processes (children too) and namespaces are gone."""
    if (reason := netns_unavailable()) is not None:
        pytest.skip(f"network namespaces are not permitted here: {reason}")
    seen: dict[str, list[Any]] = {}

    def failing_test() -> None:
        with Network(tmp_path) as net:
            host = net.add_host("a")
            proc = host.spawn(["sh", "-c", "sleep 300 & exec sleep 301"], name="sleepers")
            time.sleep(0.2)
            seen["pids"] = [int(p) for p in _cmd_out(["ip", "netns", "pids", host.ns]).split()]
            seen["names"] = [host.ns, net.bridge_ns]
            seen["procs"] = [proc]
            msg = "test failed"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="test failed"):
        failing_test()
    assert len(seen["pids"]) == 2
    assert not seen["procs"][0].running
    for pid in seen["pids"]:
        assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid)
    assert not set(seen["names"]) & set(_cmd_out(["ip", "netns", "list"]).split())


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").split(")")[1].split()[0]


def test_sweeper_deletes_namespaces_of_dead_runs_only(netns: Network) -> None:
    """A namespace named for a process that is gone is swept; one of a live process stays."""
    gone = subprocess.Popen(["true"])  # a pid that no longer runs
    gone.wait()
    stale = f"{PREFIX}-{gone.pid}-abc123-x"
    live = f"{PREFIX}-{os.getpid()}-abc123-y"
    try:
        for ns in (stale, live):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        swept = sweep_stale()
        names = _cmd_out(["ip", "netns", "list"]).split()
        assert stale in swept
        assert stale not in names
        assert live in names
        assert netns.bridge_ns in names
    finally:
        for ns in (stale, live):
            subprocess.run(["ip", "netns", "delete", ns], check=False, capture_output=True)


_COLLIDE = test_two_networks_at_once_do_not_collide.__name__


def test_skips_with_a_clear_message_where_namespaces_are_not_permitted() -> None:
    """Without CAP_SYS_ADMIN `ip netns add` fails, and the netns tests skip saying why."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop CAP_SYS_ADMIN for the child")
    args = ["setpriv", "--bounding-set=-sys_admin", sys.executable, "-m", "pytest", "-p"]
    args += ["no:cacheprovider", "-rs", "-q", f"{__file__}::{_COLLIDE}"]
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert "1 skipped" in done.stdout, done.stdout + done.stderr
    assert "network namespaces are not permitted here: `ip netns add` failed" in done.stdout
    assert "Operation not permitted" in done.stdout


def _netns_inode() -> int:
    return Path("/proc/thread-self/ns/net").stat().st_ino


async def test_entered_async_runs_executor_work_in_the_host(netns: Network) -> None:
    """Work handed to the loop's executor (aiomqtt connects there) runs in the entered host; a
    thread of the plain entered() block inherits it; back outside, the thread is home again."""
    a = netns.add_host("a")
    host_inode = Path(f"/run/netns/{a.ns}").stat().st_ino
    home = _netns_inode()
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, _netns_inode) == home  # a worker made outside
    async with a.entered_async():
        assert _netns_inode() == host_inode
        assert await loop.run_in_executor(None, _netns_inode) == host_inode
    assert _netns_inode() == home
    assert await loop.run_in_executor(None, _netns_inode) == home
    seen: list[int] = []
    with a.entered():
        worker = threading.Thread(target=lambda: seen.append(_netns_inode()))
        worker.start()
    worker.join()
    assert seen == [host_inode]
