"""Roles on the served app: 401/403/429 with messages, websocket tokens, OpenAPI, bad input."""

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from marine_watch.auth.keys import hash_key
from marine_watch.settings import Settings
from tests.helpers import present, serve
from tests.services import Broker

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]
DUTY, TEAM, ADMIN = "k-duty", "k-team", "k-admin"


def keys() -> tuple[str, ...]:
    return (
        f"ops:duty_officer:{hash_key(DUTY)}",
        f"rescue:emergency_team:{hash_key(TEAM)}",
        f"root:admin:{hash_key(ADMIN)}",
    )


async def test_roles_rate_limits_and_openapi(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """401 without a key, 403 for the wrong role, 429 with Retry-After, security schemes in OpenAPI."""
    settings = make_settings(mosquitto, api_keys=keys(), rate_limit_per_s=1.0, rate_limit_burst=2)
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        missing = await http.get("/api/v1/dead-letters")
        assert missing.status_code == 401
        assert "missing API key" in missing.json()["error"]
        bad = await http.get("/api/v1/dead-letters", headers={"X-API-Key": "wrong"})
        assert bad.status_code == 401
        forbidden = await http.get("/api/v1/dead-letters", headers={"X-API-Key": TEAM})
        assert forbidden.status_code == 403
        assert "duty_officer" in forbidden.json()["error"]
        assert (await http.get("/api/v1/dead-letters", headers={"X-API-Key": ADMIN})).is_success

        made = await http.post(
            "/api/v1/admin/users",
            json={"name": "ann", "role": "duty_officer"},
            headers={"X-API-Key": ADMIN},
        )
        assert made.status_code == 201
        new_key = made.json()["key"]
        assert (await http.get("/api/v1/dead-letters", headers={"X-API-Key": new_key})).is_success
        assert (
            await http.delete("/api/v1/admin/users/ann", headers={"X-API-Key": ADMIN})
        ).status_code == 204
        assert (
            await http.get("/api/v1/dead-letters", headers={"X-API-Key": new_key})
        ).status_code == 401

        codes = [(await http.get("/api/v1/zones")).status_code for _ in range(4)]
        assert codes[:2] == [200, 200]
        assert codes[-1] == 429
        limited = await http.get("/api/v1/zones")
        assert int(limited.headers["Retry-After"]) >= 1

        spec = (await http.get("/openapi.json")).json()
        schemes = spec["components"]["securitySchemes"]
        assert {"APIKeyHeader", "HTTPBearer"} <= set(schemes)
        assert "/api/v1/alerts.atom" in spec["paths"]
        assert spec["paths"]["/api/v1/dead-letters"]["get"]["security"]

        async with connect(f"{app.ws}/ws/feeds") as ws:
            await ws.send(json.dumps({"type": "hello"}))  # not an auth message
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert present(closed.value.rcvd).code == 1008
        assert "401" in present(closed.value.rcvd).reason
        async with connect(f"{app.ws}/ws/feeds") as ws:
            await ws.send(json.dumps({"type": "auth", "key": DUTY}))
            await ws.ping()
        async with connect(f"{app.ws}/ws/feeds", additional_headers={"X-API-Key": DUTY}) as ws:
            await ws.ping()


async def test_bad_input_gets_4xx_with_a_message(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """Invalid positions, unknown ids, malformed webhooks and road notes are refused with reasons."""
    settings = make_settings(mosquitto, api_keys=keys())
    team, duty = {"X-API-Key": TEAM}, {"X-API-Key": DUTY}
    async with serve(settings) as app, httpx.AsyncClient(base_url=app.http) as http:
        checks = [
            (await http.get("/api/v1/risk", params={"lat": 91, "lon": 121}), 422),
            (await http.get("/api/v1/risk", params={"lat": "x", "lon": 121}), 422),
            (await http.get("/api/v1/risk", params={"lat": 0, "lon": 0}), 404),
            (await http.get("/api/v1/zones/atlantis/history"), 404),
            (await http.get("/api/v1/segments/nope/overtopping"), 404),
            (await http.get("/api/v1/alerts/nope.cap"), 404),
            (await http.post("/api/v1/webhooks", json={"url": "ftp://x"}, headers=team), 422),
            (
                await http.post(
                    "/api/v1/webhooks", json={"url": "http://127.0.0.1/x"}, headers=team
                ),
                422,
            ),
            (
                await http.post(
                    "/api/v1/webhooks",
                    json={"url": "https://a.example/x", "zones": ["mars"]},
                    headers=team,
                ),
                422,
            ),
            (
                await http.post(
                    "/api/v1/webhooks",
                    json={"url": "https://a.example/x", "extra": 1},
                    headers=team,
                ),
                422,
            ),
            (
                await http.post(
                    "/api/v1/roads",
                    json={
                        "state": "closed",
                        "text": "x",
                        "geometry": {"type": "Point", "coordinates": [[1, 2], [3, 4]]},
                    },
                    headers=duty,
                ),
                422,
            ),
            (
                await http.post(
                    "/api/v1/roads",
                    content=b"{not json",
                    headers={**duty, "content-type": "application/json"},
                ),
                422,
            ),
            (await http.post("/api/v1/alerts/nope/ack", json={}, headers=team), 404),
        ]
        for response, code in checks:
            assert response.status_code == code, response.text
            assert response.json()["error"]
        calc = await http.get(
            "/api/v1/segments/d-zhapu/overtopping",
            params={"water_m": 5.0, "hm0_m": 1.5, "tp_s": 7.0},
        )
        assert calc.status_code == 200, calc.text
        body = calc.json()
        assert body["hazard"] == "overtopping"
        assert body["q_l_per_s_per_m"] >= 0
        assert body["inputs"] == {"water_m": 5.0, "hm0_m": 1.5, "tp_s": 7.0}
        missing = await http.post("/api/v1/segments/d-zhapu/overtopping", json={"water_m": 5.0})
        assert missing.status_code == 422
        assert "give hm0_m" in json.dumps(missing.json())
