"""What a partial node answers: the paths each role serves and the 503 refusal of the rest, over
HTTP and on websocket handshakes (tests/integration/test_node_roles.py runs the nodes)."""

import json
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from marine_watch.api.nodes import (
    API_REFUSAL,
    INGEST_REFUSAL,
    TRY_AGAIN_LATER,
    RoleLimit,
    api_serves,
    ingest_serves,
)


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("/health", True),
        ("/metrics", True),
        ("/docs", True),
        ("/docs/oauth2-redirect", True),
        ("/openapi.json", True),
        ("/api/v1/dead-letters", True),
        ("/api/v1/dead-letters/count", True),
        ("/api/v1/stations", True),
        ("/api/v1/stations/zhapu/readings", True),
        ("/", False),
        ("/api/v1/risk", False),
        ("/api/v1/zones", False),
        ("/ws/risk", False),
        ("/api/v1/alerts", False),
    ],
)
def test_an_ingest_node_serves_operations_dead_letters_and_stations(
    path: str, served: bool
) -> None:
    assert ingest_serves(path) is served


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("/api/v1/zones/zhapu", True),
        ("/api/v1/stations/zhapu", True),
        ("/api/v1/alerts/mw-1.cap", True),
        ("/static/css/site.css", True),
        ("/api/v1/zones/zhapu/history", False),  # one segment more: not rebuilt
        ("/api/v1/zones/", True),  # the prefix with an empty item: the route answers 404
        ("/api/v1/alerts/mw-1", False),  # the full message is not public
        ("/api/v1/alerts/a/b.cap", False),
        ("/api/v1/riskier", False),  # exact paths are exact
        ("/resident/", False),
    ],
)
def test_an_api_node_serves_single_items_and_exact_public_paths(path: str, served: bool) -> None:
    assert api_serves(path) is served


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    """The app behind the middleware: says it was reached."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        return
    body = json.dumps({"reached": scope["path"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize(
    ("role", "refusal", "served", "refused"),
    [
        ("api", API_REFUSAL, "/api/v1/zones", "/api/v1/forecasts"),
        ("ingest", INGEST_REFUSAL, "/api/v1/dead-letters", "/api/v1/zones"),
    ],
)
async def test_http_requests_pass_or_get_503_with_where_to_ask(
    role: str, refusal: str, served: str, refused: str
) -> None:
    transport = httpx.ASGITransport(app=RoleLimit(inner, role=role))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        ok = await http.get(served)
        no = await http.post(refused, json={"x": 1})
    assert (ok.status_code, ok.json()) == (200, {"reached": served})
    assert no.status_code == 503
    assert no.json() == {"detail": refusal}
    assert no.headers["content-type"] == "application/json"
    assert int(no.headers["content-length"]) == len(no.content)
    assert f"MARINE_WATCH_NODE_ROLE={role}" in refusal


async def handshake(role: str, path: str, extensions: dict[str, Any]) -> list[Message]:
    """What the middleware sends for a websocket connection to ``path``."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": path, "headers": [], "extensions": extensions}
    await RoleLimit(inner, role=role)(scope, receive, send)
    return sent


async def test_a_refused_handshake_is_a_503_when_the_server_can_answer_one() -> None:
    sent = await handshake("ingest", "/ws/risk", {"websocket.http.response": {}})
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 503
    assert json.loads(sent[1]["body"]) == {"detail": INGEST_REFUSAL}


async def test_a_refused_handshake_is_closed_try_again_later_otherwise() -> None:
    sent = await handshake("api", "/ws/alerts", {})
    assert sent == [{"type": "websocket.close", "code": TRY_AGAIN_LATER, "reason": API_REFUSAL}]


async def test_a_served_handshake_and_the_lifespan_pass_through() -> None:
    assert await handshake("api", "/ws/risk", {}) == [{"type": "websocket.accept"}]
    reached: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["type"])

    async def nothing() -> Message:
        return {"type": "lifespan.startup"}

    async def drop(message: Message) -> None:
        raise AssertionError(message)

    await RoleLimit(app, role="ingest")({"type": "lifespan"}, nothing, drop)
    assert reached == ["lifespan"]
