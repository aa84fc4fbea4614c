"""A private 3-node NATS cluster with JetStream and MQTT listeners, for broker-failover tests.

Each node gets free loopback ports (client, cluster route, monitoring, MQTT), its own JetStream
store dir and a generated config: cluster routes to the other two nodes, JetStream, MQTT with
``stream_replicas: 3`` (sessions, retained messages and QoS 1 queues replicated to every node) and
``authorization { users }`` so nobody connects anonymously. ``kill(i)`` SIGKILLs a node as a
crash would; ``start(i)`` brings it back with the same ports and store. ``meta_leader()`` asks the
monitoring port (``/jsz``) which node leads the JetStream meta group.

Only processes started here are ever stopped (tests/services.py's ``_OWNED`` bookkeeping). A
missing ``nats-server`` binary skips the test with the install command (it is in `make system-deps`).
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.services import (
    HOST,
    _fail_if_exited,
    _kill,
    _spawn,
    _tail,
    _terminate,
    free_port,
    scaled,
    wait_for_port,
)

SIZE = 3
CLUSTER_NAME = "mw-test"
#: Unacknowledged QoS 1 messages NATS sends one MQTT subscription before it waits for PUBACKs.
MAX_ACK_PENDING = 1000


def nats_binary() -> str:
    """Path of nats-server; skip (with the install command) when the binary is not on this machine."""
    path = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin:/usr/bin")
    if path is None:
        pytest.skip("nats-server is missing: apt-get install nats-server (`make system-deps`)")
    return path


@dataclass(frozen=True, slots=True)
class NatsUser:
    """A NATS account entry that MQTT clients use as username/password."""

    name: str
    password: str = field(repr=False)


def _ports() -> dict[str, int]:
    taken: set[int] = set()
    ports = {}
    for name in ("client", "cluster", "http", "mqtt"):
        port = free_port()
        while port in taken:
            port = free_port()
        taken.add(port)
        ports[name] = port
    return ports


@dataclass(slots=True)
class NatsNode:
    """One cluster member; ``start()`` after ``kill()`` keeps its ports and JetStream store."""

    name: str
    ports: dict[str, int]
    root: Path
    exe: str
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def conf(self) -> Path:
        return self.root / "nats.conf"

    @property
    def log(self) -> Path:
        return self.root / "nats.out"

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://{HOST}:{self.ports['mqtt']}"

    @property
    def monitor(self) -> str:
        return f"http://{HOST}:{self.ports['http']}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.proc = _spawn([self.exe, "-c", str(self.conf)], self.log)
        try:
            wait_for_port(HOST, self.ports["mqtt"], timeout=30.0, proc=self.proc, log=self.log)
        except BaseException:
            _terminate(self.proc)
            raise

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would."""
        _kill(self.proc)

    def stop(self) -> None:
        _terminate(self.proc, timeout=15.0)

    def jsz(self) -> dict[str, object] | None:
        """The node's JetStream report, or None while it does not answer."""
        if not self.running:
            return None
        with contextlib.suppress(httpx.HTTPError, ValueError):
            answer = httpx.get(f"{self.monitor}/jsz", timeout=1.0)
            if answer.status_code == httpx.codes.OK:
                body: dict[str, object] = answer.json()
                return body
        return None


def node_conf(
    node: NatsNode,
    peers: list[NatsNode],
    users: list[NatsUser],
    *,
    replicas: int = SIZE,
    max_ack_pending: int = MAX_ACK_PENDING,
    authorization: str | None = None,
) -> str:
    """A nats-server config for ``node``: routes to ``peers``, JetStream, MQTT, password users."""
    routes = ", ".join(f"nats-route://{HOST}:{p.ports['cluster']}" for p in peers)
    accounts = ",\n    ".join(f'{{user: "{u.name}", password: "{u.password}"}}' for u in users)
    auth = authorization or f"authorization {{\n  users: [\n    {accounts}\n  ]\n}}\n"
    return f"""\
server_name: {node.name}
listen: {HOST}:{node.ports["client"]}
http: {HOST}:{node.ports["http"]}
max_payload: 1MB

jetstream {{
  store_dir: "{node.root}"
  max_memory_store: 64MB
  max_file_store: 1GB
}}

cluster {{
  name: {CLUSTER_NAME}
  listen: {HOST}:{node.ports["cluster"]}
  routes: [{routes}]
}}

mqtt {{
  listen: {HOST}:{node.ports["mqtt"]}
  stream_replicas: {replicas}
  ack_wait: "30s"
  max_ack_pending: {max_ack_pending}
}}

{auth}"""


@dataclass(slots=True)
class NatsCluster:
    """Three NATS nodes routed to each other; index 0..2."""

    nodes: list[NatsNode]
    users: dict[str, NatsUser]

    @property
    def mqtt_urls(self) -> list[str]:
        return [n.mqtt_url for n in self.nodes]

    @property
    def mqtt_url_list(self) -> str:
        """The comma-separated list MARINE_WATCH_MQTT_URL takes."""
        return ",".join(self.mqtt_urls)

    def user(self, name: str) -> NatsUser:
        return self.users[name]

    def start(self, index: int, *, wait: bool = True) -> None:
        self.nodes[index].start()
        if wait:
            self.wait_ready()

    def kill(self, index: int) -> None:
        self.nodes[index].kill()

    def index_of(self, port: int) -> int:
        """The node whose MQTT listener is on ``port``."""
        return next(i for i, n in enumerate(self.nodes) if n.ports["mqtt"] == port)

    def meta_leader(self) -> str | None:
        """Name of the JetStream meta leader as a running node sees it, or None while there is none."""
        for node in self.nodes:
            report = node.jsz()
            meta = report.get("meta_cluster") if report else None
            if isinstance(meta, dict) and meta.get("leader"):
                return str(meta["leader"])
        return None

    def wait_meta_leader_other_than(self, old: str, timeout: float = 60.0) -> str:
        """Until the running nodes elect a meta leader other than ``old`` (a killed one)."""
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            leader = self.meta_leader()
            if leader not in (None, old):
                return str(leader)
            time.sleep(0.2)  # polling a condition
        pytest.fail(f"no new JetStream meta leader after {scaled(timeout):.0f} s")

    def meta_leader_index(self) -> int:
        leader = self.meta_leader()
        assert leader is not None, "no JetStream meta leader"
        return next(i for i, n in enumerate(self.nodes) if n.name == leader)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every running node agrees on a meta leader that is itself running, with all peers."""
        deadline = time.monotonic() + scaled(timeout)
        running = [n for n in self.nodes if n.running]
        while time.monotonic() < deadline:
            for node in running:
                _fail_if_exited(node.proc, node.log)
            if self._agreed(running):
                return
            time.sleep(0.2)  # polling a condition
        logs = "".join(_tail(n.log) for n in self.nodes)
        pytest.fail(f"NATS cluster not ready after {scaled(timeout):.0f} s{logs}")

    @staticmethod
    def _agreed(running: list[NatsNode]) -> bool:
        """Every running node names the same running leader, which lists the others as current."""
        names = {n.name for n in running}
        metas = []
        for node in running:
            report = node.jsz()
            meta = report.get("meta_cluster") if report else None
            if not isinstance(meta, dict) or not meta.get("leader"):
                return False
            metas.append((node.name, meta))
        leaders = {meta["leader"] for _, meta in metas}
        if len(leaders) != 1 or not leaders <= names:
            return False
        leader_meta = next(meta for name, meta in metas if name in leaders)
        current = {r["name"] for r in leader_meta.get("replicas") or [] if r.get("current")}
        return names - leaders <= current

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_cluster(
    tmpdir: Path,
    user_names: tuple[str, ...] = ("marine-watch",),
    *,
    max_ack_pending: int = MAX_ACK_PENDING,
    authorization: tuple[str, dict[str, str]] | None = None,
) -> NatsCluster:
    """Generate configs for three nodes in ``tmpdir``, start them, wait for a meta leader.

    ``authorization``: an ``authorization {...}`` block to use instead of generated users, with
    the plaintext passwords of its users (for the clients of the test).
    """
    exe = nats_binary()
    users = {name: NatsUser(name, secrets.token_urlsafe(18)) for name in user_names}
    if authorization is not None:
        users = {name: NatsUser(name, pw) for name, pw in authorization[1].items()}
    nodes = []
    used: set[int] = set()
    for i in range(SIZE):
        ports = _ports()
        while used & set(ports.values()):
            ports = _ports()
        used |= set(ports.values())
        root = tmpdir / f"n{i + 1}"
        root.mkdir(parents=True, exist_ok=True)
        nodes.append(NatsNode(f"n{i + 1}", ports, root, exe))
    for node in nodes:
        peers = [p for p in nodes if p is not node]
        conf = node_conf(
            node,
            peers,
            list(users.values()),
            max_ack_pending=max_ack_pending,
            authorization=None if authorization is None else authorization[0],
        )
        node.conf.write_text(conf, encoding="utf-8")
    cluster = NatsCluster(nodes, users)
    try:
        for node in nodes:
            node.start()
        cluster.wait_ready()
    except BaseException:
        cluster.stop()
        raise
    return cluster
