"""Typed dependencies: handlers reach the lifespan's Services through Depends."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from marine_watch.services import Services


async def get_services(conn: HTTPConnection) -> Services:
    """The node's Services, as the lifespan put them on the app state."""
    services: Services = conn.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
