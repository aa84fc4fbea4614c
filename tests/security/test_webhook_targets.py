"""Webhooks cannot reach inside: every spelling of an internal address is refused, at registration
and at each delivery, and a delivery goes to the address that was vetted."""

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from marine_watch.alerts.netguard import TargetGuard, pinned_client
from marine_watch.alerts.webhooks import Policy, Sender, WebhookStore
from marine_watch.auth.keys import hash_key
from marine_watch.settings import Settings
from tests.helpers import num, serve
from tests.integration.test_surge_scenario import Receiver
from tests.marine_watch.alerts.test_webhooks import alert, run_until
from tests.security.certs import Pki, make_pki
from tests.services import Broker

TEAM = "k-team"
PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:4700::1111"
POLICY = Policy(timeout_s=2.0, max_attempts=1, backoff_s=0.01, backoff_max_s=0.05, batch=10)


def loopback_names_in_hosts_file() -> list[str]:
    """Every name /etc/hosts maps to a loopback address (localhost at least)."""
    names = []
    for line in Path("/etc/hosts").read_text(encoding="utf-8").splitlines():
        fields = line.split("#")[0].split()
        if fields and ipaddress.ip_address(fields[0].partition("%")[0]).is_loopback:
            names += fields[1:]
    assert "localhost" in names
    return names


HOSTILE = [
    # loopback, however it is spelled
    "http://127.0.0.1:8086/query?q=DROP%20DATABASE%20marine_watch",
    "http://127.1/x",
    "http://2130706433/x",
    "http://0x7f000001/x",
    "http://0x7f.1/x",
    "http://0177.0.0.1/x",
    "http://127.000.000.001/x",
    "http://localhost/x",
    "http://LOCALHOST/x",
    "http://localhost./x",
    "http://[::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[::ffff:7f00:1]/x",
    "http://[64:ff9b::7f00:1]/x",
    "http://[2002:7f00:1::]/x",
    # unspecified, private, link-local (cloud metadata), shared/CGNAT, multicast, reserved
    "http://0.0.0.0/x",
    "http://0/x",
    "http://[::]/x",
    "http://10.0.0.1/x",
    "http://172.16.5.4/x",
    "http://192.168.1.1/x",
    "http://[fc00::1]/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/x",
    "http://100.64.0.1/x",
    "http://100.100.100.200/x",
    "http://224.0.0.1/x",
    "http://239.255.255.250:1900/x",
    "http://[ff02::1]/x",
    "http://240.0.0.1/x",
    "http://255.255.255.255/x",
    "http://198.18.0.1/x",
    # a name that does not resolve is not sent to either
    "https://no-such-host.invalid/x",
]


@pytest.mark.services
@pytest.mark.timeout(60)
async def test_internal_targets_are_refused_at_registration(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """Each hostile URL gets 422 with the reason; public addresses are accepted."""
    settings = make_settings(mosquitto, api_keys=(f"rescue:emergency_team:{hash_key(TEAM)}",))
    team = {"X-API-Key": TEAM}
    hosts_names = [f"http://{n}:8086/query" for n in loopback_names_in_hosts_file()]
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        accepted = {}
        for url in HOSTILE + hosts_names:
            answer = await http.post("/api/v1/webhooks", json={"url": url}, headers=team)
            if answer.status_code != 422:
                accepted[url] = answer.status_code
            else:
                assert any(
                    why in answer.json()["error"]
                    for why in ("not allowed", "does not resolve", "not valid")
                ), (url, answer.json())
        assert accepted == {}
        for url in (f"https://{PUBLIC_V4}/hook", f"http://[{PUBLIC_V6}]:8080/hook"):
            answer = await http.post("/api/v1/webhooks", json={"url": url}, headers=team)
            assert answer.status_code == 201, (url, answer.text)


@pytest.mark.services
@pytest.mark.timeout(60)
async def test_the_allow_list_opens_the_named_networks_only(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """With 127.0.0.0/8 allowed, a receiver on this machine may register; ::1 and 10/8 still may not."""
    settings = make_settings(
        mosquitto,
        api_keys=(f"rescue:emergency_team:{hash_key(TEAM)}",),
        webhook_allow_networks=("127.0.0.0/8",),
    )
    team = {"X-API-Key": TEAM}
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        for url, status in [
            ("http://127.0.0.1:9/hook", 201),
            ("http://[::1]:9/hook", 422),
            ("http://10.0.0.1/hook", 422),
        ]:
            answer = await http.post("/api/v1/webhooks", json={"url": url}, headers=team)
            assert answer.status_code == status, (url, answer.text)


class Answers:
    """A DNS answer per lookup, in order (the last one repeats): how a rebinding name behaves."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@asynccontextmanager
async def receiving(receiver: Receiver, pki: Pki | None = None) -> AsyncIterator[int]:
    """``receiver`` served on 127.0.0.1 (over HTTPS with ``pki``'s certificate); yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    tls: dict[str, Any] = {} if pki is None else {"ssl_certfile": pki.cert, "ssl_keyfile": pki.key}
    config = uvicorn.Config(receiver, log_config=None, lifespan="off", **tls)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="receiver")
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


async def deliver_once(
    tmp_path: Path, guard: TargetGuard, url: str, verify: ssl.SSLContext | bool = True
) -> dict[str, object]:
    """Register ``url`` (vetted once, as the API does), spool one alert, run the sender until it tried."""
    store = WebhookStore(tmp_path / "webhooks.sqlite3")
    await store.open()
    target = httpx.URL(url)
    await guard.vet(target.host, target.port or 443)  # registration
    sub = await store.subscribe("team:a", url, (), (), ("zone",))
    await store.enqueue(alert(), b'{"alert": 1}')
    async with pinned_client(guard, POLICY.timeout_s, verify=verify) as http:
        sender = Sender(store, http, POLICY)

        async def tried() -> bool:
            return num((await store.log(sub.id))[0]["attempts"]) >= 1

        await run_until(sender, tried)
    entry = (await store.log(sub.id))[0]
    await store.close()
    return entry


@pytest.mark.timeout(60)
async def test_a_name_that_rebinds_to_loopback_at_delivery_is_refused(tmp_path: Path) -> None:
    """Public when registered, 127.0.0.1 when the alert goes out: nothing reaches the local receiver."""
    receiver = Receiver()
    answers = Answers([PUBLIC_V4], ["127.0.0.1"])
    async with receiving(receiver) as port:
        url = f"http://rebind.example:{port}/hook"
        entry = await deliver_once(tmp_path, TargetGuard(resolve=answers), url)
    assert answers.asked == ["rebind.example", "rebind.example"]  # at registration and at delivery
    assert receiver.received == []
    assert entry["status"] == "failed"
    assert "127.0.0.1: loopback" in str(entry["last_error"])


@pytest.mark.timeout(60)
async def test_one_internal_address_among_public_ones_is_enough_to_refuse(tmp_path: Path) -> None:
    """A name answering with a public and a loopback address is refused (either could be used)."""
    with pytest.raises(httpx.TransportError, match="loopback"):
        await TargetGuard(resolve=Answers([PUBLIC_V4, "127.0.0.1"])).vet("mixed.example", 80)


@pytest.mark.timeout(60)
async def test_delivery_goes_to_the_vetted_address_under_the_hosts_name(tmp_path: Path) -> None:
    """The connection is made to the address the guard vetted; the request still names the host."""
    receiver = Receiver()
    guard = TargetGuard(("127.0.0.0/8",), resolve=Answers(["127.0.0.1"]))
    async with receiving(receiver) as port:
        entry = await deliver_once(tmp_path, guard, f"http://hooks.example:{port}/hook")
    assert entry["status"] == "delivered"
    assert [(h["host"], body) for h, body in receiver.received] == [
        (f"hooks.example:{port}", b'{"alert": 1}')
    ]


@pytest.mark.timeout(60)
async def test_https_delivery_checks_the_certificate_of_the_name(tmp_path: Path) -> None:
    """Pinned to 127.0.0.1, TLS still sends and checks the host name: its certificate passes,
    a certificate for another name fails."""
    pki = make_pki(tmp_path / "pki", names=("hooks.example",), ip="10.9.9.9")  # not 127.0.0.1
    trust = ssl.create_default_context(cafile=str(pki.ca))
    receiver = Receiver()
    async with receiving(receiver, pki) as port:
        outcomes = {}
        for name in ("hooks.example", "other.example"):
            guard = TargetGuard(("127.0.0.0/8",), resolve=Answers(["127.0.0.1"]))
            url = f"https://{name}:{port}/hook"
            outcomes[name] = await deliver_once(tmp_path / name, guard, url, trust)
    assert outcomes["hooks.example"]["status"] == "delivered"
    assert outcomes["other.example"]["status"] == "failed"
    assert "certificate" in str(outcomes["other.example"]["last_error"]).lower()
    assert len(receiver.received) == 1
