"""Request bodies: bounded, and read only after a known key, on a tiny app behind the middleware."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.middleware import Middleware

from marine_watch.api.bodyguard import BodyGuard
from marine_watch.auth.keys import KeyRing, hash_key
from marine_watch.settings import Settings

KEY = "mw_test-key-of-ann"
LIMIT = 1000


@dataclass
class Keys:
    """The features of a node that holds keys (the middleware needs only the key ring)."""

    keyring: KeyRing


@dataclass
class Held:
    """What the middleware reads from ``app.state.services``: the settings and the features."""

    settings: Settings
    features: Keys | None = None  # None: an API node, which holds no keys


def build(tmp_path: Path, *, started: bool = True, keys: bool = True) -> tuple[FastAPI, list[int]]:
    """An app whose routes read their whole body and note its length."""
    app = FastAPI(middleware=[Middleware(BodyGuard)])
    read: list[int] = []

    @app.post("/api/v1/things")
    @app.post("/api/v1/segments/{segment}/overtopping")
    @app.post("/api/v1/alerts/{identifier}/ack")
    @app.put("/api/v1/things")
    async def take(request: Request) -> dict[str, int]:
        read.append(len(await request.body()))
        return {"read": read[-1]}

    @app.get("/api/v1/things")
    async def look() -> dict[str, str]:
        return {"ok": "yes"}

    if started:
        settings = Settings(
            config_dir=tmp_path,
            data_dir=tmp_path,
            http_max_body_bytes=LIMIT,
            api_keys=(f"ann:duty_officer:{hash_key(KEY)}",),
        )
        app.state.services = Held(settings, Keys(KeyRing(settings)) if keys else None)
    return app, read


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, list[int]]]:
    app, read = build(tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http, read


Guarded = tuple[httpx.AsyncClient, list[int]]


async def test_a_keyed_body_within_the_limit_is_read(guarded: Guarded) -> None:
    http, read = guarded
    by_header = await http.post("/api/v1/things", content=b"x" * LIMIT, headers={"X-API-Key": KEY})
    by_bearer = await http.put(
        "/api/v1/things", content=b"y" * 10, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert (by_header.status_code, by_header.json()) == (200, {"read": LIMIT})
    assert (by_bearer.status_code, by_bearer.json()) == (200, {"read": 10})
    assert read == [LIMIT, 10]


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "mw_not-a-key"}, {"Authorization": "Basic " + KEY}, {"X-API-Key": ""}],
)
async def test_no_known_key_is_401_before_the_body_is_read(
    guarded: Guarded, headers: dict[str, str]
) -> None:
    http, read = guarded
    answer = await http.post("/api/v1/things", content=b"{}", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.headers["connection"] == "close"
    assert "missing or unknown API key" in answer.json()["error"]
    assert read == []


async def test_a_declared_length_over_the_limit_is_413_unread_even_with_a_key(
    guarded: Guarded,
) -> None:
    http, read = guarded
    answer = await http.post(
        "/api/v1/things", content=b"x" * (LIMIT + 1), headers={"X-API-Key": KEY}
    )
    assert answer.status_code == 413
    assert answer.json() == {"error": f"request body larger than {LIMIT} bytes"}
    assert read == []
    keyless = await http.post("/api/v1/things", content=b"x" * (LIMIT + 1))
    assert keyless.status_code == 413  # the size is checked first: no key lookup for a flood


async def test_a_chunked_body_is_cut_off_at_the_limit(guarded: Guarded) -> None:
    http, read = guarded

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"z" * 300

    answer = await http.post("/api/v1/things", content=chunks(), headers={"X-API-Key": KEY})
    assert answer.status_code == 413
    assert answer.json() == {"detail": f"request body larger than {LIMIT} bytes"}
    assert read == []


async def test_public_and_signed_routes_take_a_body_without_a_key(guarded: Guarded) -> None:
    """The overtopping calculator is public; an acknowledgement naming a webhook subscription is
    checked by its route against the signature. Without that header an ack needs a key."""
    http, read = guarded
    public = await http.post("/api/v1/segments/d-zhapu/overtopping", content=b"{}")
    signed = await http.post(
        "/api/v1/alerts/mw-1/ack", content=b"{}", headers={"X-MarineWatch-Subscription": "s1"}
    )
    unsigned = await http.post("/api/v1/alerts/mw-1/ack", content=b"{}")
    deeper = await http.post("/api/v1/segments/d-zhapu/overtopping/x", content=b"{}")
    assert [public.status_code, signed.status_code, unsigned.status_code] == [200, 200, 401]
    assert deeper.status_code == 401  # the exceptions are exact paths, not prefixes
    assert read == [2, 2]


async def test_requests_without_a_body_pass_untouched(guarded: Guarded) -> None:
    http, _ = guarded
    assert (await http.get("/api/v1/things")).status_code == 200


async def test_a_bad_length_header_is_413(guarded: Guarded) -> None:
    http, read = guarded
    answer = await http.post(
        "/api/v1/things", content=b"{}", headers={"X-API-Key": KEY, "Content-Length": "-2"}
    )
    assert answer.status_code == 413
    assert read == []


async def test_before_the_services_are_started_nothing_is_guarded(tmp_path: Path) -> None:
    app, read = build(tmp_path, started=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.post("/api/v1/things", content=b"abc")
    assert answer.status_code == 200
    assert read == [3]


async def test_a_node_without_keys_takes_public_bodies_only(tmp_path: Path) -> None:
    """An API node holds no keys: a keyed body route is refused unread, the calculator is not."""
    app, read = build(tmp_path, keys=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        keyed = await http.post("/api/v1/things", content=b"{}", headers={"X-API-Key": KEY})
        public = await http.post("/api/v1/segments/d-zhapu/overtopping", content=b"{}")
    assert (keyed.status_code, public.status_code) == (401, 200)
    assert read == [2]
