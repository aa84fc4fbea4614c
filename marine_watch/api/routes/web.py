"""The duty-officer dashboard (/), the resident page (/resident), their static files, and the
security policy of the API documentation pages (/docs, /redoc)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marine_watch.api.security import RateLimited

router = APIRouter(include_in_schema=False, dependencies=[RateLimited])
STATIC_DIR = Path(__file__).resolve().parents[2] / "web" / "static"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
NO_CACHE = {"Cache-Control": "no-cache"}  # revalidate: a deploy must reach open dashboards


def _file(name: str) -> FileResponse:
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        raise HTTPException(404, f"no static file {name!r}")
    media = MEDIA_TYPES.get(path.suffix)
    if media is None:
        raise HTTPException(404, f"no static file {name!r}")
    return FileResponse(path, media_type=media, headers=NO_CACHE)


@router.get("/")
async def dashboard() -> FileResponse:
    """The duty-officer dashboard: the coast, stations, charts, alerts."""
    return _file("index.html")


@router.get("/resident")
async def resident() -> FileResponse:
    """The resident page: the colour where you stand, what to do, where to go."""
    return _file("resident.html")


@router.get("/static/{name:path}")
async def static(name: str) -> FileResponse:
    """Scripts and styles of the two pages (no CDN: they work offline)."""
    return _file(name)


#: The API documentation pages may load only from this service: their scripts, styles and icon come
#: from the fastapi-offline package, and ReDoc's footer logo (an image on a CDN) is refused.
DOCS_POLICY = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    b"frame-ancestors 'none'"
)
DOCS_PAGES = ("/docs", "/redoc")


class DocsPolicy:
    """ASGI middleware: a Content-Security-Policy on /docs and /redoc that keeps them on this host."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the docs pages' content security policy to their answers; pass everything else."""
        if scope["type"] != "http" or scope.get("path") not in DOCS_PAGES:
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"content-security-policy", DOCS_POLICY)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_policy)
