"""Who may call what: API-key dependencies per role, websocket tokens, and the public rate limit."""

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, WebSocket
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from marine_watch.api.deps import ServicesDep
from marine_watch.auth.keys import KeyRing, Principal, Role
from marine_watch.services import Services

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key of a duty officer, team or admin"
)
bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token")
WS_POLICY_VIOLATION = 1008
WS_UNSUPPORTED_DATA = 1003
WS_AUTH_TIMEOUT_S = 10.0  # a client that sends no key header has this long to send its auth message
WS_AUTH_MAX_CHARS = 1024
#: Query parameters that would carry a key in a URL, where logs, proxies and browsers keep it.
KEY_PARAMS = frozenset({"token", "key", "api_key", "apikey", "access_token"})
WS_AUTH_HELP = (
    'send the key as the first message {"type":"auth","key":"<key>"} or in an X-API-Key or '
    "Authorization header; never in the URL"
)


def keyring_of(services: ServicesDep) -> KeyRing:
    """The node's key ring (route dependency)."""
    return services.full.keyring


def authorise(ring: KeyRing, token: str | None, roles: tuple[Role, ...]) -> Principal:
    """The principal of ``token`` if its role is one of ``roles`` (admin passes all); 401 or 403."""
    needed = " or ".join(r.value for r in roles)
    if not token:
        msg = f"missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key' ({needed})"
        raise HTTPException(401, msg, headers={"WWW-Authenticate": "Bearer"})
    principal = ring.lookup(token)
    if principal is None:
        raise HTTPException(
            401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    if principal.role != Role.ADMIN and principal.role not in roles:
        msg = f"role {principal.role.value!r} may not do this; it needs {needed}"
        raise HTTPException(403, msg)
    return principal


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits the given roles (and admin) and returns the caller."""

    async def dependency(
        services: ServicesDep,
        key: Annotated[str | None, Security(api_key_header)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> Principal:
        token = key or (credentials.credentials if credentials else None)
        return authorise(keyring_of(services), token, roles)

    return dependency


DutyOfficer = Annotated[Principal, Depends(require(Role.DUTY_OFFICER))]
Responder = Annotated[Principal, Depends(require(Role.DUTY_OFFICER, Role.EMERGENCY_TEAM))]
Team = Annotated[Principal, Depends(require(Role.EMERGENCY_TEAM))]
Forecaster = Annotated[Principal, Depends(require(Role.FORECASTER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


def _header_key(websocket: WebSocket) -> str | None:
    bearer_key = websocket.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return websocket.headers.get("x-api-key") or bearer_key or None


async def _first_message_key(websocket: WebSocket) -> str | None:
    """The key of the client's first message ``{"type": "auth", "key": "..."}`` (None: none came)."""
    try:
        message = await asyncio.wait_for(websocket.receive(), WS_AUTH_TIMEOUT_S)
    except TimeoutError:
        return None
    text = message.get("text")
    if message["type"] != "websocket.receive" or not isinstance(text, str):
        return None
    if len(text) > WS_AUTH_MAX_CHARS:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return None
    key = body.get("key") if isinstance(body, dict) and body.get("type") == "auth" else None
    return key if isinstance(key, str) else None


async def ws_principal(
    websocket: WebSocket, services: ServicesDep, *roles: Role
) -> Principal | None:
    """Accept the socket and authenticate it by header or first message; close it with 1008 and
    the reason when the key is missing, not allowed, or sent in the URL."""
    await websocket.accept()
    if KEY_PARAMS.intersection(websocket.query_params):
        await websocket.close(WS_POLICY_VIOLATION, "key in the URL refused: " + WS_AUTH_HELP[:90])
        return None
    token = _header_key(websocket) or await _first_message_key(websocket)
    try:
        return authorise(keyring_of(services), token, roles)
    except HTTPException as exc:
        await websocket.close(WS_POLICY_VIOLATION, f"{exc.status_code}: {exc.detail}"[:120])
        return None


def check_rate(request: Request, services: Services, bucket: str = "") -> None:
    """Spend one token of the caller's bucket; 429 with Retry-After when it is empty.

    ``bucket`` names a separate bucket per client (``/health`` has its own, so a load balancer's
    health checks are never starved by the traffic it forwards from the same address)."""
    limiter = services.ratelimit
    client = request.client.host if request.client else "unknown"
    wait_s = limiter.take(bucket + client)
    if wait_s > 0:
        msg = f"too many requests: at most {limiter.rate_per_s:g}/s per client (burst {limiter.burst})"
        raise HTTPException(429, msg, headers={"Retry-After": str(math.ceil(wait_s))})


ROWS_PER_TOKEN = 1_000


def charge_rows(request: Request, services: Services, rows: int) -> None:
    """Charge a heavy read to the caller's bucket: one more token per 1,000 rows answered."""
    if rows >= ROWS_PER_TOKEN:
        services.ratelimit.charge(
            request.client.host if request.client else "unknown", rows / ROWS_PER_TOKEN
        )


async def rate_limited(request: Request, services: ServicesDep) -> None:
    """Public endpoints: a token bucket per client IP; 429 with Retry-After when empty."""
    check_rate(request, services)


RateLimited = Depends(rate_limited)


async def health_rate_limited(request: Request, services: ServicesDep) -> None:
    """``/health``: rate-limited in a bucket of its own per client."""
    check_rate(request, services, "health:")


HealthRateLimited = Depends(health_rate_limited)
