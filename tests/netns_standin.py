"""A stand-in API node for load-balancer tests: a few routes of the real node, each naming the node.

Run it in a host: ``python -m tests.netns_standin --name api1 --host 10.214.0.2 --port 8000
--health-file /tmp/x``. Starlette on uvicorn like the service, so HTTP keep-alive and the websocket
upgrade behave as the real node's do.

- ``GET /health``: 200 ``{"node": …}``, or the status written in ``--health-file`` while that file
  exists (``503`` takes the node out of HAProxy, as the service's /health does when degraded);
  ``sleep 3`` in the file answers 200 after 3 s, as a node busy with a connect storm would.
- ``GET /whoami``: the node, the peer address and the ``X-Forwarded-For`` headers it received.
- ``/ws/echo``: sends ``{"node": …}`` once, then echoes every text message.
"""

import argparse
import asyncio
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


def build_app(name: str, health_file: Path) -> Starlette:
    async def health(_request: Request) -> JSONResponse:
        status = 200
        if health_file.exists():
            word, _, value = health_file.read_text(encoding="utf-8").strip().partition(" ")
            if word == "sleep":  # a node too busy to answer at once
                await asyncio.sleep(float(value))
            else:
                status = int(word or "503")
        return JSONResponse({"node": name, "status": status}, status_code=status)

    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "node": name,
                "peer": request.client.host if request.client else None,
                "x_forwarded_for": request.headers.getlist("x-forwarded-for"),
            }
        )

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json({"node": name})
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            return

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/whoami", whoami),
            WebSocketRoute("/ws/echo", echo),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--health-file", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.run(
        build_app(args.name, args.health_file),
        host=args.host,
        port=args.port,
        log_level="warning",
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
