"""The webhook address vetting table, the guard's resolution rules and the pinned transport, as
pure functions (tests/security/test_webhook_targets.py sends hostile URLs to a running service)."""

import asyncio
import ipaddress

import httpx
import pytest

from marine_watch.alerts.netguard import (
    PinnedTransport,
    TargetGuard,
    TargetRefused,
    pinned_client,
    why_internal,
)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared/CGNAT"),
        ("100.127.255.254", "shared/CGNAT"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("10.1.2.3", "private"),
        ("172.31.0.1", "private"),
        ("192.168.0.1", "private"),
        ("fc00::1", "private"),
        ("198.18.0.1", "private"),  # benchmarking range
        ("240.0.0.1", "private"),  # class E: ipaddress counts it private before reserved
        ("192.0.2.10", "private"),  # TEST-NET-1 (documentation)
    ],
)
def test_internal_addresses_say_why(address: str, reason: str) -> None:
    assert why_internal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("::ffff:127.0.0.1", "loopback (inside ::ffff:7f00:1)"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private (inside ::ffff:a00:1)"),
        ("2002:7f00:1::", "loopback (inside 2002:7f00:1::)"),  # 6to4
        ("64:ff9b::a9fe:a9fe", "link-local (inside 64:ff9b::a9fe:a9fe)"),  # NAT64
    ],
)
def test_ipv4_inside_ipv6_is_judged_by_the_ipv4_address(address: str, reason: str) -> None:
    assert why_internal(ipaddress.ip_address(address)) == reason


def test_teredo_carries_the_client_address_and_is_judged_by_it() -> None:
    # Teredo server 65.54.227.120, client 192.168.1.1 (obfuscated: bits inverted)
    inner = int(ipaddress.IPv4Address("192.168.1.1")) ^ 0xFFFFFFFF
    teredo = ipaddress.IPv6Address((0x20010000 << 96) | (0x4136E378 << 64) | inner)
    assert teredo.teredo is not None
    assert teredo.teredo[1] == ipaddress.IPv4Address("192.168.1.1")
    reason = why_internal(teredo)
    assert reason is not None
    assert reason.startswith("private (inside 2001:0:4136:e378:")


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_unicast_addresses_pass(address: str) -> None:
    assert why_internal(ipaddress.ip_address(address)) is None


def test_a_mapped_address_is_refused_even_when_the_ipv4_inside_is_public() -> None:
    """::ffff:0:0/96 lies in IPv6's reserved ::/8: nobody publishes a webhook under it."""
    assert why_internal(ipaddress.ip_address("::ffff:93.184.216.34")) == "reserved"


class Answers:
    """A resolver that answers a fixed list and records what it was asked."""

    def __init__(self, *addresses: str, delay_s: float = 0.0, error: OSError | None = None) -> None:
        self.addresses = list(addresses)
        self.delay_s = delay_s
        self.error = error
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.addresses


async def test_vet_returns_the_first_public_address_and_strips_brackets_and_scope() -> None:
    answers = Answers("2606:4700::1111%eth0", "93.184.216.34")
    address = await TargetGuard(resolve=answers).vet("[hooks.example]", 443)
    assert address == ipaddress.ip_address("2606:4700::1111")
    assert answers.asked == [("hooks.example", 443)]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (Answers(), "does not resolve"),
        (Answers(error=OSError("Name or service not known")), "does not resolve"),
        (Answers("93.184.216.34", delay_s=1.0), "does not resolve"),  # past the timeout
        (Answers("93.184.216.34", "10.0.0.7"), "resolves to 10.0.0.7: private"),
    ],
)
async def test_vet_refuses_unresolvable_slow_and_partly_internal_names(
    answers: Answers, message: str
) -> None:
    guard = TargetGuard(resolve=answers, timeout_s=0.1)
    with pytest.raises(TargetRefused, match=message):
        await guard.vet("hooks.example", 80)


async def test_the_allow_list_opens_its_networks_for_their_ip_version_only() -> None:
    guard = TargetGuard(("10.20.0.0/16", "fd00::/8"), resolve=Answers("10.20.1.1"))
    assert guard.allowed(ipaddress.ip_address("10.20.255.1"))
    assert guard.allowed(ipaddress.ip_address("fd12::1"))
    assert not guard.allowed(ipaddress.ip_address("10.21.0.1"))
    assert not guard.allowed(ipaddress.ip_address("::ffff:10.20.1.1"))  # v6, not in a v6 network
    assert await guard.vet("inside.example", 80) == ipaddress.ip_address("10.20.1.1")
    mixed = TargetGuard(("10.20.0.0/16",), resolve=Answers("10.20.1.1", "127.0.0.1"))
    with pytest.raises(TargetRefused, match="loopback"):
        await mixed.vet("inside.example", 80)


class Recorder(httpx.AsyncBaseTransport):
    """The inner transport: records what it was asked to send, answers 204."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(204)

    async def aclose(self) -> None:
        self.closed = True


async def test_the_pinned_transport_connects_to_the_vetted_address_under_the_name() -> None:
    """URL host swapped for the IP; Host header and TLS server name keep the name; default port."""
    answers = Answers("93.184.216.34")
    inner = Recorder()
    transport = PinnedTransport(TargetGuard(resolve=answers), inner)
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.post("https://hooks.example/path?q=1", content=b"{}")
    assert response.status_code == 204
    assert answers.asked == [("hooks.example", 443)]
    [sent] = inner.sent
    assert str(sent.url) == "https://93.184.216.34/path?q=1"
    assert sent.headers["host"] == "hooks.example"
    assert sent.extensions["sni_hostname"] == "hooks.example"
    assert inner.closed


async def test_the_pinned_transport_sends_nothing_to_a_refused_address() -> None:
    inner = Recorder()
    transport = PinnedTransport(TargetGuard(resolve=Answers("127.0.0.1")), inner)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(TargetRefused, match="loopback") as err:
            await client.get("http://hooks.example:8080/x")
    assert err.value.request.url.host == "hooks.example"
    assert inner.sent == []


async def test_the_webhook_client_follows_no_redirect_and_ignores_proxy_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    client = pinned_client(TargetGuard(resolve=Answers("93.184.216.34")), 3.0)
    try:
        assert client.follow_redirects is False
        assert client.trust_env is False
        assert client.timeout == httpx.Timeout(3.0)
        assert isinstance(client._transport, PinnedTransport)
        assert client._mounts == {}  # no proxy transport mounted from the environment
    finally:
        await client.aclose()
