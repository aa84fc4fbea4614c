"""Webhooks go to the public internet only: vet every address a host resolves to, then connect to it.

A webhook URL is checked when it is registered and again at every delivery. Its host is resolved
(the system resolver, so every spelling it accepts — ``2130706433``, ``0x7f000001``, ``127.1``,
names in /etc/hosts — is judged by the address it yields) and refused if *any* address is
loopback, private, link-local, shared (CGNAT 100.64/10), multicast, reserved or unspecified,
including IPv4 addresses carried inside IPv6 (mapped, 6to4, Teredo, NAT64). A host that does not
resolve is refused too. The only exceptions are the networks in ``webhook_allow_networks``.

:class:`PinnedTransport` then connects to the vetted address itself — the URL's host is swapped for
the IP, while the ``Host`` header and TLS (SNI and certificate check, through httpx's documented
``sni_hostname`` request extension) keep the name — so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot steer the request inside.
"""

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(httpx.TransportError):
    """The webhook host resolves to an address we do not send to."""


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (TCP)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_internal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_v4(address)
        if inner is not None and (reason := why_internal(inner)):
            return f"{reason} (inside {address})"
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.version == 4 and address in _CGNAT, "shared/CGNAT"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not global"),
    )
    return next((reason for hit, reason in checks if hit), None)


class TargetGuard:
    """Resolves webhook hosts and says which address to use, or why none may be used."""

    def __init__(
        self,
        allow_networks: Sequence[str] = (),
        *,
        resolve: Resolver = system_resolve,
        timeout_s: float = 5.0,
    ) -> None:
        self._allow = tuple(ipaddress.ip_network(n, strict=False) for n in allow_networks)
        self._resolve = resolve
        self._timeout_s = timeout_s

    def allowed(self, address: IPAddress) -> bool:
        """Whether ``address`` is inside one of the allowed networks."""
        return any(address.version == net.version and address in net for net in self._allow)

    async def vet(self, host: str, port: int) -> IPAddress:
        """The address to connect to for ``host``; TargetRefused when any address is internal."""
        try:
            async with asyncio.timeout(self._timeout_s):
                found = await self._resolve(host.strip("[]"), port)
        except (OSError, TimeoutError) as exc:
            msg = f"{host} does not resolve ({exc})"
            raise TargetRefused(msg) from None
        if not found:
            msg = f"{host} does not resolve"
            raise TargetRefused(msg)
        addresses = [ipaddress.ip_address(a.partition("%")[0]) for a in found]
        for address in addresses:
            reason = None if self.allowed(address) else why_internal(address)
            if reason:
                msg = f"{host} resolves to {address}: {reason}; not allowed for webhooks"
                raise TargetRefused(msg)
        return addresses[0]


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends each request to the address :class:`TargetGuard` vetted."""

    def __init__(self, guard: TargetGuard, inner: httpx.AsyncBaseTransport) -> None:
        self._guard = guard
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the vetted address of its host, keeping the Host header and SNI."""
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            address = await self._guard.vet(url.host, port)
        except TargetRefused as exc:
            exc.request = request
            raise
        # The Host header was set from the original URL when the request was built; keep it.
        request.url = url.copy_with(host=str(address))
        request.extensions = {**request.extensions, "sni_hostname": url.host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


def pinned_client(
    guard: TargetGuard, timeout_s: float, *, verify: ssl.SSLContext | bool = True
) -> httpx.AsyncClient:
    """The webhook HTTP client: pinned addresses, no redirects, no proxies from the environment.

    Connections are not kept alive: a kept connection is keyed by the IP alone, so it could carry
    a request for another host name on that address without that name's certificate check.
    """
    inner = httpx.AsyncHTTPTransport(
        verify=verify, limits=httpx.Limits(max_connections=20, max_keepalive_connections=0)
    )
    return httpx.AsyncClient(
        transport=PinnedTransport(guard, inner),
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
    )
