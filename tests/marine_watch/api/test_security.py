"""Who may call what: the role check, the key dependencies, websocket keys and the rate limits,
on a tiny app whose services hold a key ring and a rate limiter."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request, WebSocket
from starlette.types import Message

from marine_watch.api import security
from marine_watch.api.deps import get_services
from marine_watch.api.security import (
    WS_POLICY_VIOLATION,
    Admin,
    DutyOfficer,
    HealthRateLimited,
    RateLimited,
    Responder,
    authorise,
    charge_rows,
    ws_principal,
)
from marine_watch.auth.keys import KeyRing, Principal, Role, hash_key
from marine_watch.auth.rate_limits import RateLimiter
from marine_watch.settings import Settings

KEYS = {"ann": "mw_key-ann", "ted": "mw_key-ted", "root": "mw_key-root", "fay": "mw_key-fay"}
ROLES = {"ann": "duty_officer", "ted": "emergency_team", "root": "admin", "fay": "forecaster"}


@dataclass
class Keys:
    """The features of a node that holds keys (the dependencies need only the key ring)."""

    keyring: KeyRing


@dataclass
class Held:
    """What the dependencies read from the services: the key ring and the rate limiter."""

    features: Keys
    ratelimit: RateLimiter

    @property
    def full(self) -> Keys:
        return self.features


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    keys = tuple(f"{n}:{ROLES[n]}:{hash_key(k)}" for n, k in KEYS.items())
    return KeyRing(Settings(config_dir=tmp_path, data_dir=tmp_path, api_keys=keys))


def test_authorise_admits_the_roles_asked_and_admin(ring: KeyRing) -> None:
    roles = (Role.DUTY_OFFICER, Role.EMERGENCY_TEAM)
    assert authorise(ring, KEYS["ann"], roles) == Principal("ann", Role.DUTY_OFFICER)
    assert authorise(ring, KEYS["ted"], roles) == Principal("ted", Role.EMERGENCY_TEAM)
    assert authorise(ring, KEYS["root"], roles) == Principal("root", Role.ADMIN)


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        (
            None,
            401,
            "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key' "
            "(duty_officer or emergency_team)",
        ),
        ("", 401, "missing API key"),
        ("mw_revoked", 401, "unknown or revoked API key"),
        (
            KEYS["fay"],
            403,
            "role 'forecaster' may not do this; it needs duty_officer or emergency_team",
        ),
    ],
)
def test_authorise_refuses_with_401_or_403_and_says_what_is_needed(
    ring: KeyRing, token: str | None, status: int, words: str
) -> None:
    with pytest.raises(HTTPException) as err:
        authorise(ring, token, (Role.DUTY_OFFICER, Role.EMERGENCY_TEAM))
    assert err.value.status_code == status
    assert words in str(err.value.detail)
    if status == 401:
        assert err.value.headers == {"WWW-Authenticate": "Bearer"}


@pytest.fixture
def app(ring: KeyRing) -> FastAPI:
    app = FastAPI()
    held = Held(Keys(ring), RateLimiter(rate_per_s=0.001, burst=2))

    async def services() -> Held:
        return held

    app.dependency_overrides[get_services] = services

    @app.get("/duty")
    async def duty(who: DutyOfficer) -> dict[str, str]:
        return {"name": who.name}

    @app.get("/respond")
    async def respond(who: Responder) -> dict[str, str]:
        return {"name": who.name}

    @app.get("/admin")
    async def admin(who: Admin) -> dict[str, str]:
        return {"name": who.name}

    @app.get("/public", dependencies=[RateLimited])
    async def public() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/health", dependencies=[HealthRateLimited])
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/rows")
    async def rows(request: Request, n: int) -> dict[str, bool]:
        charge_rows(request, held, n)  # type: ignore[arg-type]
        return {"ok": True}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        who = await ws_principal(websocket, held, Role.EMERGENCY_TEAM)  # type: ignore[arg-type]
        if who is not None:
            await websocket.send_text(json.dumps({"name": who.name}))
            await websocket.close()

    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def websocket(
    app: FastAPI,
    query: str = "",
    headers: dict[str, str] | None = None,
    sends: tuple[str, ...] = (),
) -> list[Message]:
    """Open /ws on the app (ASGI, no server), send ``sends`` as text; what the app sent back."""
    incoming: asyncio.Queue[Message] = asyncio.Queue()
    for message in [{"type": "websocket.connect"}] + [
        {"type": "websocket.receive", "text": t} for t in sends
    ]:
        incoming.put_nowait(message)
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "websocket.close":
            incoming.put_nowait({"type": "websocket.disconnect", "code": message.get("code")})

    scope = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "scheme": "ws",
        "server": ("test", 80),
        "client": ("127.0.0.1", 5000),
        "subprotocols": [],
        "asgi": {"version": "3.0"},
    }
    async with asyncio.timeout(5):
        await app(scope, incoming.get, send)
    return sent


def closed_with(sent: list[Message]) -> tuple[int, str]:
    assert sent[0]["type"] == "websocket.accept"
    assert sent[-1]["type"] == "websocket.close"
    return sent[-1]["code"], sent[-1]["reason"]


async def test_the_key_dependencies_take_either_header(client: httpx.AsyncClient) -> None:
    bearer = {"Authorization": f"Bearer {KEYS['ted']}"}
    assert (await client.get("/duty", headers={"X-API-Key": KEYS["ann"]})).json() == {"name": "ann"}
    assert (await client.get("/respond", headers=bearer)).json() == {"name": "ted"}
    assert (await client.get("/duty", headers=bearer)).status_code == 403
    assert (await client.get("/admin", headers={"X-API-Key": KEYS["ann"]})).status_code == 403
    assert (await client.get("/admin", headers={"X-API-Key": KEYS["root"]})).json() == {
        "name": "root"
    }
    nobody = await client.get("/duty")
    assert nobody.status_code == 401
    assert nobody.headers["www-authenticate"] == "Bearer"
    in_url = await client.get("/duty", params={"api_key": KEYS["ann"]})
    assert in_url.status_code == 401  # a key is never taken from the URL


async def test_the_public_rate_limit_answers_429_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    assert [(await client.get("/public")).status_code for _ in range(2)] == [200, 200]
    refused = await client.get("/public")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "at most 0.001/s per client (burst 2)" in refused.json()["detail"]
    assert (await client.get("/health")).status_code == 200  # a bucket of its own per client


async def test_heavy_reads_are_charged_per_thousand_rows(client: httpx.AsyncClient) -> None:
    assert (await client.get("/rows", params={"n": 999})).status_code == 200  # not charged
    assert (await client.get("/public")).status_code == 200  # one token spent, one left
    assert (await client.get("/rows", params={"n": 1000})).status_code == 200  # one token more
    assert (await client.get("/public")).status_code == 429


async def test_a_websocket_key_in_a_header_is_accepted(app: FastAPI) -> None:
    sent = await websocket(app, headers={"X-API-Key": KEYS["ted"]})
    assert sent[0]["type"] == "websocket.accept"
    assert json.loads(sent[1]["text"]) == {"name": "ted"}


async def test_a_websocket_key_in_the_first_message_is_accepted(app: FastAPI) -> None:
    sent = await websocket(app, sends=(json.dumps({"type": "auth", "key": KEYS["root"]}),))
    assert json.loads(sent[1]["text"]) == {"name": "root"}


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (json.dumps({"type": "auth", "key": KEYS["ann"]}), "403: role 'duty_officer'"),
        (json.dumps({"type": "hello", "key": KEYS["ted"]}), "401: missing API key"),
        (json.dumps({"type": "auth", "key": 42}), "401: missing API key"),
        ("not json", "401: missing API key"),
        (json.dumps({"type": "auth", "key": KEYS["ted"], "pad": "x" * 1100}), "401: missing"),
    ],
)
async def test_a_websocket_without_a_usable_key_is_closed_1008_with_the_reason(
    app: FastAPI, first: str, reason: str
) -> None:
    code, said = closed_with(await websocket(app, sends=(first,)))
    assert code == WS_POLICY_VIOLATION
    assert said.startswith(reason)
    assert len(said) <= 120


@pytest.mark.parametrize("param", sorted(security.KEY_PARAMS))
async def test_a_websocket_key_in_the_url_is_refused_even_when_valid(
    app: FastAPI, param: str
) -> None:
    sent = await websocket(app, query=f"{param}={KEYS['ted']}", headers={"X-API-Key": KEYS["ted"]})
    code, said = closed_with(sent)
    assert code == WS_POLICY_VIOLATION
    assert said.startswith("key in the URL refused")


async def test_a_websocket_that_sends_no_key_in_time_is_closed(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(security, "WS_AUTH_TIMEOUT_S", 0.05)
    code, said = closed_with(await websocket(app))
    assert (code, said.split(":")[0]) == (WS_POLICY_VIOLATION, "401")
