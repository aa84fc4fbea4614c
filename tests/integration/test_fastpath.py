"""The Starlette fast path of the resident lookup answers exactly like its documented FastAPI route."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from marine_watch.api.fastpath import PATH, risk_fast
from marine_watch.settings import Settings
from tests.helpers import serve
from tests.services import Broker

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

CASES = [
    {"lat": "30.605", "lon": "121.07"},  # inside Zhapu harbour
    {"lat": "30.40", "lon": "121.20"},  # open sea: 404
    {"lat": "91", "lon": "0"},
    {"lat": "-90.5", "lon": "200"},
    {"lat": "north", "lon": "121"},
    {"lat": "nan", "lon": "121"},
    {"lat": "inf", "lon": "-inf"},
    {"lon": "121"},
    {},
]


async def test_fast_path_and_documented_route_give_the_same_answers(
    mosquitto: Broker, make_settings: Callable[..., Settings]
) -> None:
    """Same status and body for valid, outside, out-of-range, malformed and missing positions."""
    async with serve(make_settings(mosquitto)) as app, httpx.AsyncClient(base_url=app.http) as http:
        routes = app.app.router.routes
        first = routes[0]
        assert getattr(first, "endpoint", None) is risk_fast
        for _ in range(5):  # both sets inside one evaluation, or the answers differ in time only
            fast = [await http.get(PATH, params=case) for case in CASES]
            routes.remove(first)
            documented = [await http.get(PATH, params=case) for case in CASES]
            routes.insert(0, first)
            if fast[0].json().get("evaluated_s") == documented[0].json().get("evaluated_s"):
                break
    assert [r.status_code for r in fast] == [200, 404, 422, 422, 422, 422, 422, 422, 422]
    assert [(r.status_code, _timeless(r.json())) for r in fast] == [
        (r.status_code, _timeless(r.json())) for r in documented
    ]
    assert "colours_age_s" in fast[0].json()["freshness"]
    assert fast[0].json()["freshness"].keys() == documented[0].json()["freshness"].keys()


def _timeless(body: dict[str, object]) -> dict[str, object]:
    """The answer without the colours' age, which grows between two requests."""
    return {k: v for k, v in body.items() if k != "freshness"}
