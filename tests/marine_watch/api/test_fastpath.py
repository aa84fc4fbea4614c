"""The resident lookup's fast path: its coordinate checks and where it sits among the routes
(tests/integration/test_fastpath.py pins its answers to those of the documented route)."""

import httpx
import pytest
from fastapi import FastAPI
from starlette.datastructures import QueryParams

from marine_watch.api.fastpath import PATH, _coordinate, install, risk_fast


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lat=30.6", 30.6),
        ("lat=-90", -90.0),
        ("lat=90", 90.0),
        ("lat=1e1", 10.0),
        ("", "Field required"),
        ("lat=", "Input should be a valid number, unable to parse string as a number"),
        ("lat=north", "Input should be a valid number, unable to parse string as a number"),
        ("lat=90.0001", "Input should be less than or equal to 90"),
        ("lat=inf", "Input should be less than or equal to 90"),
        ("lat=nan", "Input should be less than or equal to 90"),  # NaN fails le first
        ("lat=-90.5", "Input should be greater than or equal to -90"),
        ("lat=-inf", "Input should be greater than or equal to -90"),
    ],
)
def test_a_coordinate_is_its_value_or_pydantics_words_for_the_problem(
    query: str, expected: float | str
) -> None:
    assert _coordinate(QueryParams(query), "lat", -90.0, 90.0) == expected


@pytest.fixture
def app() -> FastAPI:
    """A bare app (no services: only refusals can be answered) with a route of its own first."""
    app = FastAPI()

    @app.get(PATH)
    async def documented() -> dict[str, str]:
        return {"route": "documented"}

    install(app)
    return app


def test_the_fast_route_is_matched_first_and_kept_out_of_the_schema(app: FastAPI) -> None:
    first = app.router.routes[0]
    assert getattr(first, "endpoint", None) is risk_fast
    assert getattr(first, "path", None) == PATH
    assert PATH in app.openapi()["paths"]  # the documented route stays in OpenAPI, once
    assert app.openapi()["paths"][PATH]["get"]["operationId"].startswith("documented")


async def test_every_bad_coordinate_is_reported_in_one_422(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        both = await http.get(PATH, params={"lat": "north", "lon": "200"})
        one = await http.get(PATH, params={"lat": "30.6"})
    assert both.status_code == 422
    assert both.json() == {
        "error": "invalid request",
        "problems": [
            {
                "where": "query.lat",
                "problem": "Input should be a valid number, unable to parse string as a number",
            },
            {"where": "query.lon", "problem": "Input should be less than or equal to 180"},
        ],
    }
    assert one.status_code == 422
    assert one.json()["problems"] == [{"where": "query.lon", "problem": "Field required"}]


async def test_only_get_is_taken_by_the_fast_route(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        posted = await http.post(PATH, params={"lat": "north"})
    assert posted.status_code == 405
