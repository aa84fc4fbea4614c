"""HAProxy with the shipped config in front of two stand-in API nodes, each in its own host.

Hosts: ``api1`` and ``api2`` (tests/netns_standin.py on :8000), ``lb`` (deploy/haproxy/haproxy.cfg
rendered for them, on :80), ``client`` (this test process, entered into that namespace).
"""

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.netns import Host, Network
from tests.netns_servers import Haproxy, StandinNode, start_haproxy, start_standin

pytestmark = pytest.mark.timeout(120)
# inter 2s, fastinter 500ms, fall 3 (deploy/haproxy/haproxy.cfg): a node that refuses or answers
# 503 is marked down after at most one inter and two fastinters (3 s), plus 1.5 s of slack
MARK_DOWN_S = 2.0 + 2 * 0.5 + 1.5


@dataclass
class Cluster:
    api: dict[str, StandinNode]
    lb: Haproxy
    client: Host
    sockets: ExitStack = field(default_factory=ExitStack)

    def get(self, path: str = "/whoami", n: int = 1, **kwargs: Any) -> list[httpx.Response]:
        with self.client.entered(), httpx.Client(base_url=self.lb.url, timeout=5.0) as http:
            return [http.get(path, **kwargs) for _ in range(n)]

    def nodes_answering(self, n: int = 20) -> Counter[str]:
        answers = self.get(n=n)
        assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
        return Counter(r.json()["node"] for r in answers)

    def ws(self) -> tuple[ClientConnection, str]:
        """A websocket to /ws/echo through HAProxy, and the node that took it."""
        with self.client.entered():
            # entered as a context manager: websockets >= 17.1 deprecates bare connect()
            ws = self.sockets.enter_context(
                connect(self.lb.url.replace("http", "ws") + "/ws/echo", open_timeout=5.0)
            )
        return ws, json.loads(ws.recv(timeout=5.0))["node"]


@pytest.fixture
def make_cluster(netns: Network, tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(**values: str) -> Cluster:
        api = {
            name: start_standin(netns.add_host(name), tmp_path, name) for name in ("api1", "api2")
        }
        servers = [(name, f"{node.host.ip}:{node.port}") for name, node in api.items()]
        lb = start_haproxy(netns.add_host("lb"), tmp_path / "haproxy", servers, values=values)
        for name in api:
            lb.wait_status("api_http", name, "UP")
        made.append(Cluster(api, lb, netns.add_host("client")))
        return made[-1]

    yield make
    for cluster in made:
        cluster.sockets.close()


def _echoes(ws: ClientConnection) -> bool:
    try:
        ws.send("ping")
        return ws.recv(timeout=3.0) == "ping"
    except (ConnectionClosed, TimeoutError):
        return False


def test_requests_spread_over_both_nodes_and_carry_the_client_address(
    make_cluster: Callable[..., Cluster],
) -> None:
    """Round robin alternates the nodes; each sees X-Forwarded-For = the client, never a forged one."""
    cluster = make_cluster()
    answers = cluster.get(n=20, headers={"X-Forwarded-For": "203.0.113.66"})
    assert Counter(r.json()["node"] for r in answers) == {"api1": 10, "api2": 10}
    assert {tuple(r.json()["x_forwarded_for"]) for r in answers} == {(cluster.client.ip,)}
    assert {r.json()["peer"] for r in answers} == {cluster.lb.host.ip}


def test_websockets_upgrade_through_haproxy_to_the_least_busy_node(
    make_cluster: Callable[..., Cluster],
) -> None:
    """/ws/* is upgraded through HAProxy; a new session goes to the node holding the fewest."""
    cluster = make_cluster()
    sessions = [cluster.ws() for _ in range(3)]
    assert sorted(node for _, node in sessions) == ["api1", "api1", "api2"]
    assert all(_echoes(ws) for ws, _ in sessions)
    for ws, node in sessions:
        if node == "api1":
            ws.close()
    _wait_sessions(cluster.lb, "api1", 0)
    late, node = cluster.ws()  # round robin would say api2; api1 holds none, api2 one
    assert node == "api1"
    for ws, _ in [*sessions, (late, node)]:
        ws.close()


def _wait_sessions(lb: Haproxy, server: str, count: int) -> None:
    deadline = time.monotonic() + 5.0
    while (current := _current_sessions(lb, server)) != count and time.monotonic() < deadline:
        time.sleep(0.02)  # polling a condition
    assert current == count


def _current_sessions(lb: Haproxy, server: str) -> int:
    return next(
        int(r["scur"]) for r in lb.stat() if r["pxname"] == "api_ws" and r["svname"] == server
    )


@pytest.mark.parametrize(("tunnel", "survives"), [("1h", True), ("1s", False)])
def test_an_idle_websocket_lives_by_timeout_tunnel_not_timeout_client(
    make_cluster: Callable[..., Cluster], tunnel: str, survives: bool
) -> None:
    """With `timeout client 1s`, an idle websocket outlives 3 s of silence only by `timeout tunnel`."""
    cluster = make_cluster(timeout_client="1s", timeout_tunnel=tunnel)
    ws, _ = cluster.ws()
    with pytest.raises((TimeoutError, ConnectionClosed)):
        ws.recv(timeout=3.0)  # 3 s of silence both ways (or cut by HAProxy)
    assert _echoes(ws) is survives
    ws.close()


def test_a_killed_node_is_marked_down_and_clients_land_on_the_other(
    make_cluster: Callable[..., Cluster],
) -> None:
    """SIGKILL api1: requests keep being answered (by api2), HAProxy marks api1 down within one
    check round, its websockets close and reconnect to api2; restarted, api1 takes traffic again."""
    cluster = make_cluster()
    sessions = [cluster.ws() for _ in range(4)]
    cluster.api["api1"].proc.kill()
    assert cluster.nodes_answering() == {"api2": 20}  # refused connections are redispatched
    assert cluster.lb.wait_status("api_http", "api1", "DOWN") < MARK_DOWN_S
    assert cluster.lb.status("api_ws", "api1") == "DOWN"
    for ws, node in sessions:
        assert _echoes(ws) is (node == "api2")
        ws.close()
    assert Counter(cluster.ws()[1] for _ in range(3)) == {"api2": 3}

    cluster.api["api1"].proc.restart()
    cluster.lb.wait_status("api_http", "api1", "UP")
    assert cluster.nodes_answering() == {"api1": 10, "api2": 10}


def test_a_node_whose_health_is_503_is_taken_out(make_cluster: Callable[..., Cluster]) -> None:
    """/health 503 on api2: marked down, its websockets cut, all traffic on api1; with both down
    HAProxy answers 503 and its own health says so; healthy again, both are back."""
    cluster = make_cluster()
    lb = cluster.lb
    sessions = [cluster.ws() for _ in range(4)]
    cluster.api["api2"].set_health(503)
    assert lb.wait_status("api_http", "api2", "DOWN") < MARK_DOWN_S
    assert lb.wait_status("api_ws", "api2", "DOWN") < 1.0
    for ws, node in sessions:
        assert _echoes(ws) is (node == "api1")
        ws.close()
    assert cluster.nodes_answering() == {"api1": 20}
    assert Counter(cluster.ws()[1] for _ in range(3)) == {"api1": 3}
    assert _lb_health(lb) == 200

    cluster.api["api1"].set_health(503)
    lb.wait_status("api_http", "api1", "DOWN")
    assert [r.status_code for r in cluster.get(n=3)] == [503, 503, 503]
    assert _lb_health(lb) == 503

    for standin in cluster.api.values():
        standin.set_health(200)
    for name in cluster.api:
        lb.wait_status("api_http", name, "UP")
    assert cluster.nodes_answering() == {"api1": 10, "api2": 10}
    assert _lb_health(lb) == 200


def test_a_node_slow_to_answer_its_health_check_keeps_its_websockets(
    make_cluster: Callable[..., Cluster],
) -> None:
    """/health answering after 3 s (a node busy with a connect storm) is within `timeout check`:
    api1 stays up for 3 check rounds and none of its websockets is cut (a 2 s check timeout cut
    them all in bench_lb)."""
    cluster = make_cluster()
    sessions = [cluster.ws() for _ in range(4)]
    cluster.api["api1"].set_health_delay(3.0)
    deadline = time.monotonic() + 3 * (2.0 + 3.0) + 1.0
    while time.monotonic() < deadline:
        assert cluster.lb.status("api_http", "api1") == "UP"
        time.sleep(0.2)  # sampling the status over three check rounds
    assert all(_echoes(ws) for ws, _ in sessions)
    for ws, _ in sessions:
        ws.close()


def _lb_health(lb: Haproxy) -> int:
    """HAProxy's own /health, asked on its host's loopback (the only place it listens)."""
    with lb.host.entered(), httpx.Client(timeout=2.0) as http:
        return http.get(f"http://127.0.0.1:{lb.stats_port}/health").status_code


def test_stats_and_health_of_haproxy_listen_on_its_loopback_only(
    make_cluster: Callable[..., Cluster],
) -> None:
    """The stats page answers on the HAProxy host's 127.0.0.1, not on its public address."""
    cluster = make_cluster()
    lb = cluster.lb
    assert not cluster.client.connects(lb.host.ip, lb.stats_port)
    with lb.host.entered(), httpx.Client(timeout=2.0) as http:
        page = http.get(f"http://127.0.0.1:{lb.stats_port}/stats;csv")
    assert page.status_code == 200
    assert {"api_http", "api_ws", "api"} <= {line.split(",")[0] for line in page.text.splitlines()}


def _open(cluster: Cluster, n: int) -> tuple[list[tuple[ClientConnection, str]], list[int]]:
    """Try ``n`` websockets through HAProxy; the ones held and the HTTP status of the refused."""
    held, refused = [], []
    for _ in range(n):
        try:
            held.append(cluster.ws())
        except InvalidStatus as exc:
            refused.append(exc.response.status_code)
    return held, refused


def test_each_node_address_takes_as_many_websockets_as_haproxy_has_source_ports(
    make_cluster: Callable[..., Cluster],
) -> None:
    """Every proxied websocket holds one ephemeral port of HAProxy's address towards its node:
    with 100 ports, one node address takes at most 100 and HAProxy refuses the rest (503); the
    next node address has 100 of its own. (Default range: 28,232 per node address.)"""
    cluster = make_cluster()
    lb = cluster.lb
    lb.host.sysctl("net.ipv4.ip_local_port_range", "40000 40099")
    lb.command("disable server api_ws/api2")
    held, refused = _open(cluster, 130)
    assert 90 <= len(held) <= 100  # a few ports may be busy with health checks
    assert {node for _, node in held} == {"api1"}
    assert refused == [503] * (130 - len(held))
    assert "no free ports" in lb.proc.log.read_text(encoding="utf-8")

    lb.command("enable server api_ws/api2")
    more, refused = _open(cluster, 30)
    assert (Counter(node for _, node in more), refused) == ({"api2": 30}, [])
    for ws, _ in [*held, *more]:
        ws.close()
