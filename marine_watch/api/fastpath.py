"""The resident lookup served below FastAPI's parameter machinery: the busiest public route.

``GET /api/v1/risk`` is documented and validated by its FastAPI route (api/places.py). This plain
Starlette route, matched before it, answers the same requests with the same checks and the same
error bodies, without FastAPI's per-request dependency and parameter solving, which costs about
half the throughput of a trivial endpoint on one worker (BENCHMARKS.md, bench_api). Both call
:func:`marine_watch.api.routes.places.risk_response`; tests/integration/test_fastpath.py pins them to the
same answers.
"""

from __future__ import annotations

import math

from fastapi import FastAPI
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from marine_watch.api.routes.places import risk_response

PATH = "/api/v1/risk"
BOUNDS = (("lat", -90.0, 90.0), ("lon", -180.0, 180.0))  # as the Query(ge=, le=) of the route


def _coordinate(params: QueryParams, name: str, lo: float, hi: float) -> float | str:
    """The value, or the problem in the words pydantic uses for the FastAPI route."""
    raw = params.get(name)
    if raw is None:
        return "Field required"
    try:
        value = float(raw)
    except ValueError:
        return "Input should be a valid number, unable to parse string as a number"
    if math.isnan(value) or value > hi:  # pydantic checks le before ge; NaN fails both
        return f"Input should be less than or equal to {hi:g}"
    if value < lo:
        return f"Input should be greater than or equal to {lo:g}"
    return value


async def risk_fast(request: Request) -> Response:
    """GET /api/v1/risk?lat=&lon= (documented on the FastAPI route)."""
    values: dict[str, float] = {}
    problems = []
    for name, lo, hi in BOUNDS:
        got = _coordinate(request.query_params, name, lo, hi)
        if isinstance(got, str):
            problems.append({"where": f"query.{name}", "problem": got})
        else:
            values[name] = got
    if problems:
        return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)
    return risk_response(request, values["lat"], values["lon"])


def install(app: FastAPI) -> None:
    """Match the fast route before every other (the FastAPI route stays for OpenAPI)."""
    app.router.routes.insert(0, Route(PATH, risk_fast, methods=["GET"], include_in_schema=False))
