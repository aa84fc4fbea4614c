"""HTTP and websocket routes."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from marine_watch.api import bodyguard, fastpath
from marine_watch.api.routes import (
    alerts,
    feeds,
    forecasts,
    ops,
    overtopping,
    places,
    roads,
    stations,
    tide,
    users,
    web,
    webhooks,
    ws,
)
from marine_watch.errors import NotOnThisNode


def register_routes(app: FastAPI) -> None:
    """Attach every router and the one error handler that maps errors to clear 4xx answers."""
    ws.install(app)  # /ws/risk matched first too (second): thousands of pages connect at once
    fastpath.install(app)
    app.add_middleware(bodyguard.BodyGuard)
    app.add_middleware(ws.RawSendMiddleware)
    app.add_middleware(web.DocsPolicy)
    # places first: the resident lookup is the hottest public route, and Starlette matches in order
    for module in (
        places,
        ops,
        stations,
        tide,
        feeds,
        alerts,
        webhooks,
        overtopping,
        roads,
        forecasts,
        users,
        ws,
        web,
    ):
        app.include_router(module.router)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)

    @app.exception_handler(NotOnThisNode)
    async def _elsewhere(_request: Request, exc: NotOnThisNode) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=503)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
